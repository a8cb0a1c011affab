// Reactions (docs/protocol.md, "Editing, replying, reacting"): under each
// message, a chip per emoji someone reacted with ("👍 3"), pressed when one of
// them is us, naming who on hover and on focus; a click toggles ours. "React…"
// in the message's menu, and the "☺+" button beside its chips, open a picker
// of the six emojis (a menu, menu.js).
//
// Each message keeps, per emoji, the *set* of nicknames who reacted: adding
// twice or taking back what is not there changes nothing, so replaying the
// history gives the same counts as watching it happen.

import { command } from "./hosting.js";
import { menuButton } from "./menu.js";
import { messageItem } from "./messages.js";
import { myNick } from "./nickname.js";

export const EMOJIS = ["👍", "❤️", "😂", "🎉", "🤔", "👀"];

const reactions = new WeakMap();  // a message's element -> Map(emoji -> Set(nick))

// The same emoji with or without its emoji-style selector (U+FE0F) is one reaction.
function known(emoji) {
  const bare = String(emoji).replace(/\uFE0F/g, "");
  return EMOJIS.find((each) => each.replace(/\uFE0F/g, "") === bare) || null;
}

// The row under a message: its chips, then the picker. Made with the first
// reaction (or when the picker is opened from the message's menu), so the many
// messages nobody reacts to cost the page nothing more.
function rowOf(item) {
  const existing = item.querySelector(":scope > .reactions");
  if (existing !== null) return existing;
  const row = document.createElement("div");
  row.className = "reactions";
  const chips = document.createElement("span");
  chips.className = "reaction-chips";
  const nick = item.querySelector(":scope > .nick").textContent;
  const picker = menuButton(`Add a reaction to the message by ${nick}`, () => EMOJIS.map(
    (emoji) => ({ label: emoji, run: () => react(item, emoji, true) })),
  { face: "☺+", horizontal: true });
  picker.classList.add("reaction-picker");
  row.append(chips, picker);
  item.append(row);
  return row;
}

// "React…" in a message's menu: open the picker, the focus on its first emoji.
export function openPicker(item) {
  rowOf(item).querySelector(".reaction-picker > .menu-button").click();
}

// The sets of a message's reactions, made with its first one.
function reactionsOf(item) {
  if (!reactions.has(item)) reactions.set(item, new Map(EMOJIS.map((emoji) => [emoji, new Set()])));
  return reactions.get(item);
}

function react(item, emoji, on) {
  command({ type: "react", target: Number(item.dataset.id), emoji, on });
}

// A `react` entry: add the nickname to (or take it out of) that emoji's set.
export function applyReaction(entry) {
  const item = messageItem(entry.target);
  const emoji = known(entry.emoji);
  if (item === null || emoji === null) return;
  if (entry.on !== true && !reactions.has(item)) return;  // taking back what nobody gave
  const who = reactionsOf(item).get(emoji);
  if (entry.on === true) who.add(entry.nick); else who.delete(entry.nick);
  render(item);
}

// Drawn again on each change; a keyboard user on a chip stays on it (or on the
// picker, when its chip goes).
function render(item) {
  const chips = rowOf(item).querySelector(".reaction-chips");
  const focused = chips.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
  const shown = EMOJIS.filter((emoji) => reactionsOf(item).get(emoji).size > 0)
    .map((emoji) => chip(item, emoji));
  chips.replaceChildren(...shown);
  if (focused === null) return;
  const again = shown.find((each) => each.dataset.emoji === focused);
  (again || item.querySelector(".reaction-picker .menu-button")).focus();
}

function chip(item, emoji) {
  const who = [...reactionsOf(item).get(emoji)];
  const mine = who.includes(myNick());
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reaction";
  button.dataset.emoji = emoji;
  button.textContent = `${emoji} ${who.length}`;
  button.setAttribute("aria-pressed", String(mine));
  // Names, as text: the label for screen readers, and the tooltip CSS draws on hover and focus.
  button.setAttribute("aria-label", `${emoji} ${who.join(", ")}`);
  button.dataset.who = `${emoji} ${who.join(", ")}`;
  button.addEventListener("click", () => react(item, emoji, !mine));
  return button;
}
