// Editing our own messages (docs/protocol.md, "Editing, replying, reacting").
// "Edit" is in the menu of a message this page posted (the server knows the
// page by its session), for 10 minutes after the message's time; the text goes
// into the composer with "Editing — Esc to cancel" (composing.js), and Enter
// sends an `edit` through the outbox (socket.js), acknowledged or refused like
// a message. An `edit` entry, live or replayed, shows the new text as
// Markdown (markdown.js), marked "(edited)" with its time on hover, and the
// quotes of the message, the pin and whether it mentions us follow it.

import { beginComposing } from "./composing.js";
import { markMention } from "./mentions.js";
import { messageItem, messageSource, replaceText } from "./messages.js";
import { quoteEdited } from "./replies.js";
import { pinnedId, setPin } from "./standing.js";
import { textElement } from "./text.js";

export const EDIT_WINDOW_MS = 10 * 60 * 1000;  // the server's limit, from the message's ts

// Whether this page may edit the message shown by `item` now.
export function canEdit(item) {
  if (item.dataset.own !== "true") return false;
  const sent = Date.parse(item.querySelector(":scope > .time").dateTime);
  return Date.now() - sent < EDIT_WINDOW_MS;
}

// "Edit" in the menu: the message's text goes into the composer.
export function startEdit(item, text = messageSource(item)) {
  beginComposing("edit", Number(item.dataset.id), item, ["Editing — Esc to cancel"], text);
}

// The server refused our edit of message `id` (the notice says why): the text
// comes back into the composer, still an edit, to fix it or to copy it.
export function editRefused(id, text) {
  const item = messageItem(id);
  if (item !== null) startEdit(item, text);
}

// An `edit` entry: message `target` shows its new text; one not on screen is skipped.
export function applyEdit(entry) {
  const item = messageItem(entry.target);
  if (pinnedId() === entry.target) {  // the pin shows the new text too (the server's does)
    const nick = item === null ? entry.nick : item.querySelector(":scope > .nick").textContent;
    setPin({ id: entry.target, nick, text: entry.text });
  }
  if (item === null) return;
  replaceText(item, entry.text);
  let mark = item.querySelector(":scope > .edited");
  if (mark === null) {
    mark = textElement("span", "edited", "(edited)");
    item.querySelector(":scope > .time").after(mark);
  }
  mark.title = `Edited ${new Date(entry.ts).toLocaleString()}`;
  quoteEdited(entry.target, entry.text);
  markMention(item, entry.text);
}
