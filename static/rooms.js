// Rooms: the room is in the address (http://HOST:3000/#maths; none means
// general), the list of rooms with people in them, switching without a
// reload, and the invite panel that shares the current room.
//
// Uses `state`, `$` and the functions of chat.js, which calls these.

"use strict";

const DEFAULT_ROOM = "general";
// The server's rule (docs/protocol.md): 1 to 32 letters of any script,
// digits, "-" or "_". Checked here too, so a bad name gets a sentence instead
// of a handshake the server refuses over and over.
const ROOM_PATTERN = /^[\p{L}\p{M}\p{N}_-]{1,32}$/u;

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

// ---- What the page keeps for each room -----------------------------------------

// Ids count separately in each room, so each room has its own last shown id
// (its `since`). Each also keeps its own outbox and, while we are elsewhere,
// the list as we left it, so coming back shows it at once and only asks for
// what came after.
function roomRecord(name) {
  if (!state.records.has(name)) {
    state.records.set(name, { lastId: null, outbox: [], saved: null });
  }
  return state.records.get(name);
}

function here() {
  return roomRecord(state.room);
}

// ---- Switching -----------------------------------------------------------------

function onHashChange() {
  const name = roomFromHash(location.hash);
  if (name === null) {
    showNotice(notARoom(hashText(location.hash)));
    history.replaceState(null, "", roomHash(state.room));  // back to where we are; no event
    return;
  }
  switchRoom(name);
}

// Leave the room on screen for another one: the socket is closed and a new
// one opens in the new room; the page itself stays (no reload).
//
// The outbox belongs to a room. Messages typed in general and not yet stored
// cannot go through a socket in maths, and opening a second socket just to
// deliver them would show us leaving and joining general. So they wait in
// general's record, and are sent again by the welcome when we come back:
// each still arrives once, because the server stores a ref once (it remembers
// refs for 10 minutes: one sent just before leaving, whose ack we left behind,
// could appear twice if we stay away longer). The notice says they wait,
// rather than keeping the person from leaving.
function switchRoom(name) {
  if (name === state.room) return;
  const waiting = here().outbox.length;
  if (waiting > 0) {
    showNotice(`${waiting} message${waiting === 1 ? "" : "s"} for #${state.room} will be sent`
      + ` when you come back to #${state.room}.`);
  } else {
    hideNotice();
  }
  stashMessages();
  state.room = name;
  showRoomName();
  if (state.wanted === "") return;  // not joined yet: Join connects to this room
  unstashMessages();
  state.online = [];
  renderOnline();
  forgetTyping();
  reconnectNow();
}

// Move the list's items into the room's record, to bring back later.
function stashMessages() {
  const saved = document.createDocumentFragment();
  saved.append(...$("messages").childNodes);
  here().saved = saved;
}

function unstashMessages() {
  const list = $("messages");
  list.replaceChildren();
  if (here().saved !== null) list.append(here().saved);
  here().saved = null;
  list.scrollTop = list.scrollHeight;
}

// The welcome names the room as the server spells it; keep our records under that name.
function adoptRoomName(name) {
  if (name === undefined || name === state.room) return;
  state.records.set(name, here());
  state.records.delete(state.room);
  state.room = name;
  history.replaceState(null, "", roomHash(name));
  showRoomName();
}

// ---- Showing rooms -----------------------------------------------------------

// The current room's name in the heading, the list and the invite panel.
function showRoomName() {
  $("room-heading").textContent = roomHash(state.room);
  renderRooms();
  updateInvite();
}

function onRoomsChanged(rooms) {
  state.rooms = rooms;
  renderRooms();
}

// Every room with people in it, as links; the one we are in is marked.
function renderRooms() {
  const names = state.rooms.includes(state.room) ? state.rooms : [...state.rooms, state.room];
  const items = names.map((name) => {
    const link = textElement("a", "room-link", roomHash(name));
    link.href = roomHash(name);
    if (name === state.room) link.setAttribute("aria-current", "page");
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
    showNotice(notARoom(typed));
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
    const inRoom = state.room !== DEFAULT_ROOM;
    const url = item.dataset.url + (inRoom ? "/" + roomHash(state.room) : "");
    const query = new URLSearchParams({ address: item.dataset.address });
    if (inRoom) query.set("room", state.room);
    const link = item.querySelector("a");
    link.href = url;
    link.textContent = url;
    const code = item.querySelector("img");
    code.src = "/invite.svg?" + query;
    code.alt = "QR code for " + url;
  }
}
