// The message list of the room on screen: people's messages, our own still
// waiting for the server (pending), lines about the room ("ada joined"), and
// the newest id of the room's log applied here, which the next connection asks
// to continue from (`since`). Ids count every kind of entry, messages and any
// other (docs/protocol.md, "The room's log"). The lists of the rooms we left
// wait here, with their ids, until we come back.
//
// Nicknames go in as text nodes in <bdi> (text.js); a message's text as
// Markdown, rendered and sanitised by markdown.js. A
// host's message carries a "host" badge, from the server's `"host": true`
// (a nickname alone never passes for one). Our own messages of this page load
// are marked when their ack comes: the server lets the page that posted a
// message delete it, and knows that page by its session, not by the nickname.

import { attachment } from "./attachments.js";
import { myNick, wantedNick } from "./nickname.js";
import { markdownText } from "./markdown.js";
import { nickName, sentence, textElement, timeElement } from "./text.js";

const list = document.getElementById("messages");

let lastId = null;       // the newest entry id applied here; null before the first
const sources = new WeakMap();  // a message's element -> its text as typed (Markdown), for edits and replies
// Ids count separately in each room, so each room keeps its own last id. Coming
// back to a room shows its list at once, and the connection asks only for what came after.
const left = new Map();  // room -> {items, lastId}: its list as we left it

export function lastShownId() {
  return lastId;
}

// Whether an entry of the room's log is new here; if so it is now the last one.
// Ids only grow, so one at or below the last applied is already on the page.
export function isNewEntry(entry) {
  if (lastId !== null && entry.id <= lastId) return false;
  lastId = entry.id;
  return true;
}

// Add a message of the room's log; return its element. `decorate(item)` adds
// the rest (a quote, reactions, a menu) before it is in the page: one layout per message.
export function addMessage(message, decorate = () => {}) {
  const item = document.createElement("li");
  item.className = "message";
  if (message.nick === myNick()) item.classList.add("mine");
  item.dataset.id = message.id;
  item.append(nickName(message.nick, "nick"));
  if (message.host === true) item.append(textElement("span", "badge", "host"));
  item.append(timeElement(message.ts), markdownText(message.text));
  sources.set(item, message.text);
  decorate(item);
  append(item);
  appendFile(item, message.file);
  return item;
}

// The text of a message on screen as its author typed it (the latest edit's).
export function messageSource(item) {
  return sources.get(item) ?? "";
}

// An edit: the message shows this text instead, rendered as Markdown again.
export function replaceText(item, text) {
  item.querySelector(":scope > .text").replaceWith(markdownText(text));
  sources.set(item, text);
}

// The message of this id on screen, or null (not loaded, or deleted).
export function messageItem(id) {
  const items = list.querySelectorAll(":scope > .message[data-id]");
  return Array.from(items).find((item) => Number(item.dataset.id) === id) || null;
}

// The messages on screen (not the pending ones), for hosting.js to give each its menu.
export function messageItems() {
  return Array.from(list.querySelectorAll(":scope > .message[data-id]"));
}

// A `delete` entry: the message goes. A keyboard user on its menu stays in the list.
export function removeMessage(id) {
  const item = messageItem(id);
  if (item === null) return;
  const hadFocus = item.contains(document.activeElement);
  item.remove();
  if (hadFocus) list.focus();
}

// Our message `id` was stored (its ack): mark it ours; return its element, or null.
export function markOwn(id) {
  const item = messageItem(id);
  if (item !== null) item.dataset.own = "true";
  return item;
}

// A message of ours the server has not acknowledged yet, greyed out (its element returned); with the
// file it posts, if any (its name and size: uploads.js).
export function addPending(ref, text, file = null) {
  const item = document.createElement("li");
  item.className = "message mine pending";
  item.dataset.ref = ref;
  item.append(
    nickName(myNick() || wantedNick(), "nick"),
    textElement("span", "sending", "sending…"),
    markdownText(text),
  );
  append(item);
  appendFile(item, file);
  return item;
}

// A message's file, if it has one (attachments.js), below its text. The list
// keeps following if it did before the file made the message taller.
function appendFile(item, file) {
  const element = attachment(file);
  if (element === null) return;
  const atBottom = isAtBottom();
  item.append(element);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function pendingItem(ref) {
  const items = list.querySelectorAll(":scope > .pending");
  return Array.from(items).find((item) => item.dataset.ref === ref) || null;
}

// Stored (the real message is already shown: the broadcast comes before the
// ack, or it was in the welcome's history) or refused: the pending copy goes.
export function removePending(ref) {
  pendingItem(ref)?.remove();
}

export function markNotStored(ref) {
  const item = pendingItem(ref);
  if (item) item.querySelector(".sending").textContent = "not stored yet, will retry…";
}

// A line about the room: text, with nicknames as <bdi> elements (nickName).
export function addSystemLine(...parts) {
  append(sentence("li", "system", ...parts));
}

// The first connection, or the server lost its history (ids start again):
// forget what we showed. Pending messages stay: they are still ours to send.
export function clearMessages() {
  list.querySelectorAll(":scope > :not(.pending)").forEach((item) => item.remove());
  lastId = null;
}

// A `clear` entry: the room is empty from here on. Unlike clearMessages() the
// last id stays (the clear's own), so the next connection continues after it.
export function emptyList() {
  const hadFocus = list.contains(document.activeElement);
  list.querySelectorAll(":scope > :not(.pending)").forEach((item) => item.remove());
  if (hadFocus) list.focus();
}

// Put the list of room `from` aside and show room `to`'s as we left it.
export function switchList(from, to) {
  const items = document.createDocumentFragment();
  items.append(...list.childNodes);
  left.set(from, { items, lastId });
  const back = left.get(to) || { items: document.createDocumentFragment(), lastId: null };
  left.delete(to);
  list.replaceChildren(back.items);
  lastId = back.lastId;
  list.scrollTop = list.scrollHeight;
}

// Follow new messages only if the reader was already at the bottom, so
// scrolling back through history is not yanked away by each new line.
// Pending messages stay last, below everything the server has confirmed.
function append(item) {
  const atBottom = isAtBottom();
  const isPending = item.classList.contains("pending");
  list.insertBefore(item, isPending ? null : list.querySelector(":scope > .pending"));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function isAtBottom() {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

// The same when the list changes size: a phone's keyboard opening or the
// screen turning would otherwise hide the newest messages below the fold.
export function followOnResize() {
  let following = true;  // whether the reader was at the bottom before the resize
  list.addEventListener("scroll", () => { following = isAtBottom(); });
  new ResizeObserver(() => {
    if (following) list.scrollTop = list.scrollHeight;
  }).observe(list);
}
