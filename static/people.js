// Who is online in the room on screen, in the order they arrived, and the
// list that shows them: our own name marked "me", hosts with a "host" badge
// and the people muted now with a "muted" one (both for everyone to see), and
// whatever controls main.js gives each name (a host's menu, hosting.js).

import { myNick } from "./nickname.js";
import { nickName, textElement } from "./text.js";

const list = document.getElementById("online");
const count = document.getElementById("online-count");

let online = [];          // nicknames, from the welcome, then each join, leave and rename
let hosts = [];           // the hosts online, as the server last listed them
let selfHost = false;     // we presented the host key: a host here, whatever the list said
let muted = new Map();    // nickname -> when the mute ends (Unix ms)
let expiry = null;        // the timer that takes the next ending mute's badge away
let controls = () => null;  // nickname -> an element to put beside it, or null

export function startPeople(callbacks) {
  controls = callbacks.controls;
}

export function setPeople(nicks) {
  online = [...nicks];
  render();
}

export function addPerson(nick) {
  // Our own join follows our welcome, which already listed us.
  if (!online.includes(nick)) online.push(nick);
  render();
}

export function removePerson(nick) {
  online = online.filter((name) => name !== nick);
  render();
}

export function renamePerson(old, nick) {
  online = online.map((name) => (name === old ? nick : name));
  render();
}

// Who is online here, for the "@" list of the composer (autocomplete.js).
export function onlineNicks() {
  return [...online];
}

// ---- Hosts and mutes -----------------------------------------------------------

// The welcome's `hosts`, and each `hosts` event.
export function setHosts(names) {
  hosts = [...names];
  render();
}

export function setSelfHost(on) {
  if (on === selfHost) return;
  selfHost = on;
  render();
}

export function isHost(nick) {
  return hosts.includes(nick) || (selfHost && nick === myNick());
}

// The welcome's `muted`: {nick: until}.
export function setMuted(mutes) {
  muted = new Map(Object.entries(mutes));
  render();
}

export function mute(nick, until) {
  muted.set(nick, until);
  render();
}

export function unmute(nick) {
  muted.delete(nick);
  render();
}

export function isMuted(nick) {
  return (muted.get(nick) || 0) > Date.now();
}

// ---- The list ------------------------------------------------------------------

// Drawn anew on each change; a keyboard user on someone's menu button keeps
// the focus on it (the list changes each time someone comes or goes).
export function render() {
  const focused = list.contains(document.activeElement)
    ? document.activeElement.closest(".person")?.dataset.nick : undefined;
  const items = online.map(personItem);
  list.replaceChildren(...items);
  count.textContent = online.length;
  const again = items.find((item) => item.dataset.nick === focused);
  again?.querySelector("button")?.focus();
  scheduleExpiry();
}

function personItem(nick) {
  const item = document.createElement("li");
  item.className = "person";
  item.dataset.nick = nick;
  item.append(nickName(nick, "name"));  // isolated: an Arabic name keeps the list left-aligned
  if (nick === myNick()) item.classList.add("me");
  if (isHost(nick)) item.append(textElement("span", "badge", "host"));
  if (isMuted(nick)) item.append(textElement("span", "badge muted", "muted"));
  const extra = controls(nick);
  if (extra !== null) item.append(extra);
  return item;
}

// A mute ends by itself: draw the list again when the next one does.
function scheduleExpiry() {
  clearTimeout(expiry);
  const now = Date.now();
  const ends = [...muted.values()].filter((until) => until > now);
  if (ends.length > 0) expiry = setTimeout(render, Math.min(...ends) - now + 50);
}
