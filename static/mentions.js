// Mentions (docs/protocol.md): "@ada" in a message mentions ada; the server does
// nothing special with it. A message that mentions us is highlighted (and says
// "mentions you" to screen readers); one that arrives while the tab is hidden
// shows a notification, if the person asked for them with "Notify me when
// mentioned" (the browser's permission is asked on that click, never on load).
// Without one, the beep for new messages (attention.js) is what they hear.
// Never for our own messages, nor for the history a welcome brings.

import { myNick } from "./nickname.js";
import { quoteText } from "./replies.js";
import { currentRoom } from "./rooms.js";
import { showNotice } from "./status.js";
import { textElement } from "./text.js";

const NOTIFY_KEY = "chat.notify";  // where the toggle is remembered
const $ = (id) => document.getElementById(id);

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

let pattern = { nick: null, test: () => false };  // made once per nickname: a welcome brings many messages

// Whether `text` mentions `nick`: "@nick", in any case, not inside a word or an
// e-mail address, and not the start of a longer name ("@ada-2" is not ada).
export function mentions(text, nick) {
  if (!nick || !text.includes("@")) return false;
  if (pattern.nick !== nick) {
    const regexp = new RegExp(
      `(?<![\\p{L}\\p{N}\\p{M}_.@-])@${escapeRegExp(nick)}(?![\\p{L}\\p{N}\\p{M}_-])`, "iu");
    pattern = { nick, test: (words) => regexp.test(words) };
  }
  return pattern.test(text);
}

// Highlight a message (on arrival, and after each edit) if it mentions us.
export function markMention(item, text) {
  const author = item.querySelector(":scope > .nick").textContent;
  const on = author !== myNick() && mentions(text, myNick());
  const said = item.querySelector(":scope > .mention-note");
  if (!on && said === null) return;  // most messages: nothing to do
  item.classList.toggle("mentions-me", on);
  if (on && said === null) {
    item.querySelector(":scope > .nick").after(textElement("span", "mention-note visually-hidden",
      " mentions you"));
  } else if (!on) {
    said?.remove();
  }
}

// ---- Notifications -----------------------------------------------------------

export function startMentions() {
  const toggle = $("notify-toggle");
  if (!("Notification" in window)) {
    toggle.closest("label").hidden = true;
    return;
  }
  toggle.checked = localStorage.getItem(NOTIFY_KEY) === "on" && Notification.permission === "granted";
  toggle.addEventListener("change", onToggle);
}

async function onToggle() {
  const toggle = $("notify-toggle");
  localStorage.setItem(NOTIFY_KEY, toggle.checked ? "on" : "off");
  if (!toggle.checked || Notification.permission === "granted") return;
  const answer = await Notification.requestPermission();  // on this click: browsers allow it then
  if (answer !== "granted") {
    toggle.checked = false;
    localStorage.setItem(NOTIFY_KEY, "off");
    showNotice("This browser does not allow this page to show notifications:"
      + " its site settings can change that.");
  }
}

// A message as it happens (main.js calls this for live messages only).
export function mentionArrived(message) {
  if (!document.hidden || message.nick === myNick()) return;
  if (!mentions(message.text, myNick())) return;
  if (!$("notify-toggle").checked || Notification.permission !== "granted") return;
  const shown = new Notification(`${message.nick} mentioned you in #${currentRoom()}`, {
    body: quoteText(message.text),
    tag: `chat-mention-${message.id}`,
  });
  shown.addEventListener("click", () => window.focus());
}
