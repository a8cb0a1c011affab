// Reactions (docs/protocol.md, "Editing, replying, reacting"): under each
// message, a chip per emoji someone reacted with ("👍 3"), pressed when one of
// them is us, naming who on hover and on focus; a click toggles ours. The
// "add a reaction" button opens a picker of the six emojis (a menu, menu.js).
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

// A new message: its (empty) row of reactions, with the picker.
export function addReactions(item) {
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
  reactions.set(item, new Map(EMOJIS.map((emoji) => [emoji, new Set()])));
}

function react(item, emoji, on) {
  command({ type: "react", target: Number(item.dataset.id), emoji, on });
}

// A `react` entry: add the nickname to (or take it out of) that emoji's set.
export function applyReaction(entry) {
  const item = messageItem(entry.target);
  const emoji = known(entry.emoji);
  if (item === null || emoji === null || !reactions.has(item)) return;
  const who = reactions.get(item).get(emoji);
  if (entry.on === true) who.add(entry.nick); else who.delete(entry.nick);
  render(item);
}

// Drawn again on each change; a keyboard user on a chip stays on it (or on the
// picker, when its chip goes).
function render(item) {
  const chips = item.querySelector(":scope > .reactions > .reaction-chips");
  const focused = chips.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
  const shown = EMOJIS.filter((emoji) => reactions.get(item).get(emoji).size > 0)
    .map((emoji) => chip(item, emoji));
  chips.replaceChildren(...shown);
  if (focused === null) return;
  const again = shown.find((each) => each.dataset.emoji === focused);
  (again || item.querySelector(".reaction-picker .menu-button")).focus();
}

function chip(item, emoji) {
  const who = [...reactions.get(item).get(emoji)];
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
