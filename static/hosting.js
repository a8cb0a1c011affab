// The host's controls: a menu on each message (delete, pin), on each person
// (mute, unmute, kick, ban, make host), and the room's controls (lock, slow
// mode, topic, lift a ban, clear, export). Everyone else sees none of them,
// except "Delete" (and "Edit", edits.js) on their own messages of this page
// load. Every message's menu starts with "Reply" (replies.js) and "React…"
// (reactions.js), for everyone.
//
// Who is a host: this page, once it presented the host key (the key holder:
// hostkey.js), or when the server lists our nickname among the hosts (made
// host). The server decides each command again and answers `forbidden` (or
// `no_such_person`, ...) when it may not: those answers show as notices. Each
// command carries a ref, so its answer is told apart from a message's.

import { canEdit, startEdit } from "./edits.js";
import { fetchAsHost, keyPresented, presentKey } from "./hostkey.js";
import { menuButton } from "./menu.js";
import { messageItems } from "./messages.js";
import { myNick } from "./nickname.js";
import { isHost, isMuted, render as renderPeople, setSelfHost } from "./people.js";
import { startReply } from "./replies.js";
import { currentRoom } from "./rooms.js";
import { commandRef, send } from "./socket.js";
import {
  currentTopic, isLocked, pinnedId, render as renderStanding, seconds, slowSeconds,
} from "./standing.js";
import { hideNotice, showNotice } from "./status.js";

const NOT_CONNECTED = "Not connected: nothing was sent. Try again once connected.";
const NOT_DONE = "The server could not store that just now: if nothing changed, try again.";
const $ = (id) => document.getElementById(id);

const waiting = new Set();  // refs of our commands the server has not answered yet
let page = { react: () => {} };  // main.js: what "React…" on a message does (reactions.js)
let shownRole = null;       // "key holder", "host" or "member": what the controls show

// Listen to the room's controls (hidden until this page is a host). `callbacks.react(item)`
// opens the reaction picker of a message.
export function startHosting(callbacks) {
  page = callbacks;
  $("lock-button").addEventListener("click", onLock);
  $("slow-form").addEventListener("submit", onSlow);
  $("topic-form").addEventListener("submit", onTopic);
  $("unban-form").addEventListener("submit", onUnban);
  $("clear-button").addEventListener("click", onClear);
  $("export-md").addEventListener("click", () => exportAs("md"));
  $("export-txt").addEventListener("click", () => exportAs("txt"));
}

function amHost() {
  return keyPresented() || isHost(myNick());
}

function role() {
  if (keyPresented()) return "key holder";
  return amHost() ? "host" : "member";
}

// After each welcome (and when a host link is opened in this page): present the
// key this browser holds, if any, and show the controls of whoever we are now
// (the list may be another room's, put aside under another role: all of it again).
export function becomeHost() {
  presentKey();
  shownRole = null;
  refreshRole();
}

// We may have become a host, or stopped being one (a `hosts` event, a refused
// key, a rename): show or take away every control. New messages get theirs as
// they come, so the list is gone through only when the role changed (an open
// menu of a message stays open through someone else's `hosts` event).
export function refreshRole() {
  setSelfHost(keyPresented());
  $("host-tools").hidden = !amHost();
  $("export").hidden = !keyPresented();  // the export asks for the key itself
  if (role() !== shownRole) {
    shownRole = role();
    messageItems().forEach(messageActions);
  }
  renderPeople();
  renderStanding();  // the pin's "Unpin"; it calls refreshPanel()
}

// ---- Commands and their answers ------------------------------------------------

// Send a frame with a ref of its own; its refusal shows as a notice (a reaction uses it too).
export function command(frame) {
  const ref = commandRef();
  if (!send({ ...frame, ref })) {
    showNotice(NOT_CONNECTED);
    return;
  }
  hideNotice();
  waiting.add(ref);
}

// An ack or an error that answers one of our commands: an error shows as a notice.
// Return whether it was one (else it is about a message, or about no frame).
// Unlike a message, a command is not sent again by itself: `unavailable` says so.
export function commandAnswered(event) {
  if (event.ref === undefined || !waiting.delete(event.ref)) return false;
  if (event.type !== "error") return true;
  showNotice(event.code === "unavailable" ? NOT_DONE : event.message);
  return true;
}

// ---- Menus on messages and people ------------------------------------------------

// Give a message its menu: anyone may reply to any; a host may delete or pin
// any; anyone may edit and delete their own. Called again when that changes.
export function messageActions(item) {
  // Kept if there: its items are reckoned when it opens, and rebuilding it (an ack
  // arriving) would close a menu under the host's finger.
  if (item.querySelector(":scope > .menu")) return;
  const nick = item.querySelector(".nick").textContent;
  const menu = menuButton(`Actions for the message by ${nick}`, () => messageMenu(item));
  item.querySelector(":scope > .reply, :scope > .text").before(menu);  // after the name and time
}

function messageMenu(item) {
  const id = Number(item.dataset.id);
  const own = item.dataset.own === "true";
  const items = [
    { label: "Reply", run: () => startReply(item) },
    { label: "React…", run: () => page.react(item) },
  ];
  if (canEdit(item)) items.push({ label: "Edit", run: () => startEdit(item) });
  if (own || amHost()) {
    items.push({ label: "Delete", run: () => command({ type: "delete", target: id }) });
  }
  if (!amHost()) return items;
  if (pinnedId() === id) {
    items.push({ label: "Unpin", run: () => command({ type: "unpin" }) });
  } else {
    items.push({ label: "Pin", run: () => command({ type: "pin", target: id }) });
  }
  return items;
}

// people.js asks for each name's controls: a host gets a menu on everyone else.
export function personControls(nick) {
  if (!amHost() || nick === myNick()) return null;
  return menuButton(`Actions for ${nick}`, () => personMenu(nick));
}

function personMenu(nick) {
  const items = [];
  if (isMuted(nick)) {
    items.push({ label: "Unmute", run: () => command({ type: "unmute", nick }) });
  } else if (!isHost(nick)) {  // a host may post whatever a mute says: no mute to offer
    items.push(
      { label: "Mute for 5 minutes", run: () => command({ type: "mute", nick, seconds: 300 }) },
      { label: "Mute for 1 hour", run: () => command({ type: "mute", nick, seconds: 3600 }) },
    );
  }
  items.push({ label: "Kick for 5 minutes", run: () => command({ type: "kick", nick }) });
  items.push({ label: "Ban from the chat…", run: () => ban(nick) });
  if (keyPresented()) {  // only the key holder makes hosts
    items.push(isHost(nick) ? { label: "Remove host", run: () => command({ type: "deop", nick }) }
      : { label: "Make host", run: () => command({ type: "op", nick }) });
  }
  return items;
}

// A ban shuts the person's address and page out of every room until lifted: ask first.
function ban(nick) {
  if (confirm(`Ban ${nick} from every room of this chat until you lift the ban?`)) {
    command({ type: "ban", nick });
  }
}

// standing.js asks for the pinned message's controls: a host may unpin it.
export function pinControls() {
  if (!amHost()) return null;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "small";
  button.textContent = "Unpin";
  button.addEventListener("click", () => command({ type: "unpin" }));
  return button;
}

// ---- The room's controls ------------------------------------------------------

// The controls follow the room's standing: called by standing.js on each change.
export function refreshPanel() {
  $("lock-button").textContent = isLocked() ? "Unlock the room" : "Lock the room";
  const select = $("slow-select");
  const value = String(slowSeconds());
  if (!Array.from(select.options).some((option) => option.value === value)) {
    select.add(new Option(seconds(slowSeconds()), value));  // set by another host's client
  }
  select.value = value;
  const topic = $("topic-input");
  if (document.activeElement !== topic) topic.value = currentTopic();
}

function onLock() {
  command({ type: isLocked() ? "unlock" : "lock" });
}

function onSlow(event) {
  event.preventDefault();
  command({ type: "slow", seconds: Number($("slow-select").value) });
}

function onTopic(event) {
  event.preventDefault();
  command({ type: "topic", topic: $("topic-input").value.trim() });
}

function onUnban(event) {
  event.preventDefault();
  const nick = $("unban-input").value.trim();
  if (!nick) return;
  command({ type: "unban", nick });
  $("unban-input").value = "";
}

function onClear() {
  if (confirm(`Clear every message of #${currentRoom()} for everyone?`)) command({ type: "clear" });
}

// ---- Export ------------------------------------------------------------------

// The room's messages as a download: fetched with the key in a header (never
// in the URL), then saved from a Blob URL.
async function exportAs(format) {
  const query = new URLSearchParams({ room: currentRoom(), format });
  let response;
  try {
    response = await fetchAsHost("/export?" + query);
  } catch (error) {
    showNotice("Could not reach the server for the export. Try again once connected.");
    return;
  }
  if (!response.ok) {
    showNotice(exportRefusal(response));
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = downloadName(response) || `${currentRoom()}.${format}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);  // the download has its own copy
}

function exportRefusal(response) {
  if (response.status === 403) {
    return "The server refused the export: this page's host key is not the host key.";
  }
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After") || "a few";
    return `Too many requests: try the export again in ${wait} s.`;
  }
  return `The export failed (HTTP ${response.status}).`;
}

// The server names the file (room and date): Content-Disposition: attachment; filename="...".
function downloadName(response) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return match === null ? null : match[1];
}
