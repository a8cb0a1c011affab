// Rooms: the room is in the address (http://HOST:3000/#maths; none means
// general), the list of rooms with people in them, switching without a
// reload, and the invite panel that shares the current room.
//
// Owns the current room and the rooms list. It never reaches into the rest of
// the page: startRooms() is given what to call when we leave a room for
// another, when a host link is opened, and how to show a notice.
//
// The address may carry a host key as well ("#host=KEY", "#maths&host=KEY":
// hostkey.js says how the two combine); it is taken out at once, and the
// address then names the room alone.

import { takeHostKey } from "./hostkey.js";
import { textElement } from "./text.js";

const DEFAULT_ROOM = "general";
// The server's rule (docs/protocol.md): 1 to 32 letters of any script,
// digits, "-" or "_". Checked here too, so a bad name gets a sentence instead
// of a handshake the server refuses over and over.
const ROOM_PATTERN = /^[\p{L}\p{M}\p{N}_-]{1,32}$/u;

const $ = (id) => document.getElementById(id);

let room = DEFAULT_ROOM;  // the room on screen, from the address
let rooms = [];           // rooms with people in them, from the server
// What startRooms() was given: onSwitch(from, to), onHostKey(), showNotice(text).
let page = null;

// Listen to the address, the "Go to room" form and the invite panel, and
// take the room the page was opened in.
export function startRooms(callbacks) {
  page = callbacks;
  $("room-form").addEventListener("submit", onRoomForm);
  $("invite-button").addEventListener("click", onInviteButton);
  document.addEventListener("keydown", onInviteKey);
  window.addEventListener("hashchange", onHashChange);
  onHashChange();  // the room in the address we were opened with
  showRoomName();
}

export function currentRoom() {
  return room;
}

// ---- Room names ----------------------------------------------------------------

// "#Maths" -> "maths"; no hash -> "general"; not a room name -> null.
function roomFromHash(hash) {
  const text = hashText(hash);
  return roomName(text === "" ? DEFAULT_ROOM : text);
}

// What the address says after "#", as typed: "#%C3%A9t%C3%A9" -> "été".
function hashText(hash) {
  try {
    return decodeURIComponent(hash.replace(/^#/, ""));
  } catch (error) {
    return hash.replace(/^#/, "");  // a stray "%" that is no encoding: not a room name anyway
  }
}

// The form of a name the server uses: lowercase. null if it breaks the rule.
function roomName(text) {
  const name = text.trim().toLowerCase();
  return ROOM_PATTERN.test(name) ? name : null;
}

function notARoom(text) {
  return `"${text}" is not a room name: use up to 32 letters, digits, - or _.`;
}

function roomHash(name) {
  return "#" + name;
}

// ---- Switching -----------------------------------------------------------------

function onHashChange() {
  const { hash, found } = takeHostKey(location.hash);
  // "#host=KEY" alone names no room: the page stays in the one it is in.
  const name = found && hash === "" ? room : roomFromHash(hash);
  if (name === null) {
    page.showNotice(notARoom(hashText(hash)));
    history.replaceState(null, "", roomHash(room));  // back to where we are; no event
  } else if (found) {
    history.replaceState(null, "", roomHash(name));  // the key leaves the address bar at once
  }
  if (found) page.onHostKey();
  if (name !== null) switchRoom(name);
}

// Leave the room on screen for another one, without a reload: the page
// (onSwitch) puts the old room's list aside and connects in the new one.
function switchRoom(name) {
  if (name === room) return;
  const from = room;
  room = name;
  showRoomName();
  page.onSwitch(from, name);
}

// The welcome names the room as the server spells it: use that name from now on.
export function adoptRoomName(name) {
  if (name === undefined || name === room) return;
  room = name;
  history.replaceState(null, "", roomHash(name));
  showRoomName();
}

// ---- Showing rooms -----------------------------------------------------------

// The current room's name in the heading, the list and the invite panel.
function showRoomName() {
  $("room-heading").textContent = roomHash(room);
  renderRooms();
  updateInvite();
}

export function setRooms(names) {
  rooms = names;
  renderRooms();
}

// Every room with people in it, as links; the one we are in is marked.
function renderRooms() {
  const names = rooms.includes(room) ? rooms : [...rooms, room];
  const items = names.map((name) => {
    const link = textElement("a", "room-link", roomHash(name));
    link.href = roomHash(name);
    if (name === room) link.setAttribute("aria-current", "page");
    const item = document.createElement("li");
    item.append(link);
    return item;
  });
  $("rooms").replaceChildren(...items);
}

// "Go to room": changing the address is what switches (see onHashChange), so
// the back button returns to the previous room.
function onRoomForm(event) {
  event.preventDefault();
  const typed = $("room-input").value;
  const name = roomName(typed.replace(/^#/, ""));
  if (name === null) {
    page.showNotice(notARoom(typed));
    return;
  }
  $("room-input").value = "";
  location.hash = roomHash(name);
}

// ---- The invite panel ------------------------------------------------------------

function onInviteButton() {
  const open = $("invite").hidden;
  $("invite").hidden = !open;
  $("invite-button").setAttribute("aria-expanded", String(open));
}

// Escape closes the panel and puts the focus back on its button.
function onInviteKey(event) {
  if (event.key !== "Escape" || $("invite").hidden) return;
  onInviteButton();
  $("invite-button").focus();
}

// Each address the server printed, with the current room: scanning the code
// opens the chat in the room the inviter is in.
function updateInvite() {
  for (const item of $("invite-list").children) {
    const inRoom = room !== DEFAULT_ROOM;
    const url = item.dataset.url + (inRoom ? "/" + roomHash(room) : "");
    const query = new URLSearchParams({ address: item.dataset.address });
    if (inRoom) query.set("room", room);
    const link = item.querySelector("a");
    link.href = url;
    link.textContent = url;
    const code = item.querySelector("img");
    code.src = "/invite.svg?" + query;
    code.alt = "QR code for " + url;
  }
}
