// The chat page: pick a nickname, connect to /ws, show the room, reconnect when the socket drops.
//
// The page is four plain scripts, loaded in order by templates/index.html:
//   text.js       turning what people typed into elements (text, links, times)
//   attention.js  "ada is typing…", the unread count in the title, the beep
//   rooms.js      the room in the address, the rooms list, switching, invitations
//   chat.js       this file: the socket, the outbox, the server's events; it starts the page
//
// The server sends data, never HTML (docs/protocol.md). Everything another
// person typed goes into the page as text (see text.js), so
// "<img onerror=...>" stays text and runs nothing. Never use innerHTML here.
//
// Nothing lost, nothing twice: a reconnect asks only for the messages after the
// last one shown (`since`), and each message typed waits in an outbox, greyed
// out, until the server's `ack` says it is stored; until then it is sent again
// after every reconnect, and after a pause when the server answers that it could
// not store it (`unavailable`). The server stores each `ref` only once.

"use strict";

const NICK_KEY = "chat.nick";       // where the chosen nickname is remembered
const RETRY_BASE_MS = 500;          // first reconnect waits about this long...
const RETRY_MAX_MS = 10000;         // ...doubling each failure, up to this
const STORE_BASE_MS = 1000;         // a message the server could not store goes again after this...
const STORE_MAX_MS = 30000;         // ...doubling while it still cannot, up to this
const STORE_LATER = "The server could not store your message yet; the page will send it again.";
const GOING_AWAY = 1001;            // close code: the server is shutting down or restarting

const $ = (id) => document.getElementById(id);

const state = {
  wanted: "",        // the nickname we ask for when (re)connecting; "" until Join
  nick: "",          // the nickname the server gave us: welcome.nick is authoritative
  room: "general",   // the room on screen, from the address (rooms.js)
  rooms: [],         // rooms with people in them, from the server
  records: new Map(), // per room: {lastId, outbox, saved}; see roomRecord() in rooms.js
  online: [],        // nicknames online in this room, in the order they arrived
  socket: null,
  failures: 0,       // reconnects since the last welcome; drives the back-off
  restarting: false, // the server said it is going away (1001); cleared by the next welcome
  reconnectTimer: null, // set while waiting to reconnect
  resuming: false,   // this connection asked for `since`: its welcome continues our list
  typed: 0,          // how many messages this page has queued; numbers their refs
  retryTimer: null,  // set while the outbox waits to be sent again (rate_limited, unavailable)
  unstored: 0,       // `unavailable` answers since the last ack; drives that wait
  typing: new Map(), // who is typing here -> the timer that stops showing it (attention.js)
  typingSentAt: 0,   // when we last told the room we are typing
  unread: 0,         // messages that arrived while the tab was hidden
  audio: null,       // the AudioContext for the beep, made once the person allows sound
};

// A random, secret name for this page load. The socket URL carries it, so when
// we reconnect while the server still holds our old, silently dead connection,
// the new one takes over our nickname instead of becoming "ada-2". Whoever
// knows it could take over our nickname too, so it goes nowhere else. Not
// crypto.randomUUID: browsers only offer it on https pages, and a classroom
// chat is served over plain http.
const PAGE_SESSION = randomHex(16);
// Our refs start with a random prefix of their own, so they never repeat those
// of an earlier load with the same nickname. Refs are stored with the messages
// (and name keys in a cluster's Redis): the session must not be in them.
const REF_PREFIX = randomHex(8);

function randomHex(byteCount) {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// ---- Joining ---------------------------------------------------------------

function start() {
  $("nick-input").value = localStorage.getItem(NICK_KEY) || "";
  $("join-form").addEventListener("submit", onJoin);
  $("composer").addEventListener("submit", onSend);
  $("message-input").addEventListener("keydown", onComposerKey);
  $("message-input").addEventListener("input", onComposerInput);
  $("rename-form").addEventListener("submit", onRename);
  $("room-form").addEventListener("submit", onRoomForm);
  $("invite-button").addEventListener("click", onInviteButton);
  document.addEventListener("keydown", onInviteKey);
  document.addEventListener("visibilitychange", onVisibilityChange);
  window.addEventListener("hashchange", onHashChange);
  startSound();
  followOnResize();
  state.room = DEFAULT_ROOM;
  onHashChange();  // the room in the address we were opened with
  showRoomName();
}

function onJoin(event) {
  event.preventDefault();
  const nick = $("nick-input").value.trim();
  if (!nick) return;
  remember(nick);
  unlockAudio();  // a click: the moment a browser allows a page to make sound
  $("join-form").hidden = true;
  $("chat").hidden = false;
  $("message-input").focus();
  connect();
}

// We remember the nickname the person chose, not a suffixed one ("ada-2")
// the server handed out while an old connection of theirs still held "ada".
function remember(nick) {
  state.wanted = nick;
  localStorage.setItem(NICK_KEY, nick);
}

// ---- The socket ------------------------------------------------------------

function socketUrl(nick, room, since) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams({ nick, session: PAGE_SESSION, room });
  if (since !== null) query.set("since", since);
  return scheme + "//" + location.host + "/ws?" + query;
}

function connect() {
  state.reconnectTimer = null;
  setStatus("connecting", "Connecting…");
  // Once messages of this room are shown, ask only for the ones after them.
  // The first visit to a room asks for nothing and gets the recent history.
  const since = here().lastId;
  state.resuming = since !== null;
  const socket = new WebSocket(socketUrl(state.wanted, state.room, since));
  // A socket we have replaced (switching rooms) may still report: ignore it.
  socket.addEventListener("message", (frame) => {
    if (socket === state.socket) onFrame(frame.data);
  });
  // A failed connection fires "error" and then "close", so "close" alone is enough.
  socket.addEventListener("close", (event) => {
    if (socket === state.socket) onClose(event);
  });
  state.socket = socket;
}

// Drop the current socket (if any) and connect at once: used to change rooms.
function reconnectNow() {
  clearTimeout(state.reconnectTimer);
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  const old = state.socket;
  state.socket = null;  // first, so its close event is ignored
  if (old !== null) old.close(1000, "Changing rooms");
  state.failures = 0;
  state.restarting = false;
  connect();
}

function onFrame(data) {
  let event;
  try {
    event = JSON.parse(data);
  } catch (error) {
    console.warn("Ignoring a frame that is not JSON:", data);
    return;
  }
  handleEvent(event);
}

// Whatever the reason, reconnect; the outbox keeps what was not stored yet.
function onClose(event) {
  state.socket = null;
  if (event.code === GOING_AWAY) state.restarting = true;
  const delay = backOff(state.failures, RETRY_BASE_MS, RETRY_MAX_MS);
  state.failures += 1;
  const seconds = Math.ceil(delay / 1000);
  if (state.restarting) {
    setStatus("disconnected", "Server restarting — reconnecting…");
  } else {
    setStatus("disconnected", `Disconnected — reconnecting in ${seconds} s…`);
  }
  forgetTyping();  // nobody can tell us they stopped while we are away
  state.reconnectTimer = setTimeout(connect, delay);
}

// Exponential back-off with jitter, in ms: after a server restart (or Redis's)
// every page tries again, and the random part keeps them from all arriving at once.
function backOff(failures, base, ceiling) {
  const longest = Math.min(ceiling, base * 2 ** failures);
  return longest / 2 + Math.random() * (longest / 2);
}

function isOpen() {
  return state.socket !== null && state.socket.readyState === WebSocket.OPEN;
}

// Send a command now, or say that we could not (used for nickname changes;
// messages go through the outbox below instead).
function send(command) {
  if (!isOpen()) {
    showNotice("Not connected: nothing was sent. Try again once connected.");
    return false;
  }
  state.socket.send(JSON.stringify(command));
  return true;
}

// ---- The outbox: messages typed but not yet stored by the server --------------

// Queue a typed message, show it as pending and send it if we can. Typing
// while disconnected works too: the next welcome sends it.
// Each room has its own outbox (rooms.js says why).
function queueMessage(text) {
  state.typed += 1;
  const entry = { ref: `c-${REF_PREFIX}-${state.typed}`, text, item: pendingItem(text) };
  here().outbox.push(entry);
  appendToList(entry.item);
  // While we wait out a rate limit, the retry sends it, after the older ones.
  if (state.retryTimer === null) transmit(entry);
}

function transmit(entry) {
  if (!isOpen()) return;  // the next welcome sends it
  state.socket.send(JSON.stringify({ type: "message", text: entry.text, ref: entry.ref }));
}

// Send every unacknowledged message again, oldest first. The server stores a
// ref only once, so one it already has just gets its original ack again.
function flushOutbox() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  here().outbox.forEach(transmit);
}

// Take the entry with this ref out of the outbox; null if it is not there.
function takeFromOutbox(ref) {
  const outbox = here().outbox;
  const index = outbox.findIndex((entry) => entry.ref === ref);
  return index === -1 ? null : outbox.splice(index, 1)[0];
}

// Stored: the real message was already shown (the broadcast comes before the
// ack, or it was in the welcome's history), so the pending copy goes.
function onAck(event) {
  state.unstored = 0;  // the server stores again
  const entry = takeFromOutbox(event.ref);
  if (entry) entry.item.remove();
  if (here().outbox.length === 0 && $("notice").textContent === STORE_LATER) hideNotice();
}

function onError(event) {
  if (event.ref === undefined) {
    showNotice(event.message);  // not about a message of ours: a nickname change, say
  } else if (event.code === "rate_limited") {
    // A missing retry_after must not turn into a resend loop at full speed.
    waitThenFlush((event.retry_after || 1) * 1000);
  } else if (event.code === "unavailable") {
    onNotStored(event);
  } else {
    onRefused(event);
  }
}

// rate_limited or unavailable: the message was not stored. Hold the whole
// outbox, then send what is left in order, so a newer message cannot overtake
// the refused one.
function waitThenFlush(ms) {
  if (state.retryTimer !== null) return;  // already waiting: that flush sends this one too
  state.retryTimer = setTimeout(flushOutbox, ms);
}

// unavailable: the server could not store it (in a cluster, Redis is away).
// Nothing the person typed is lost: it stays pending and goes again, later
// each time the server still cannot, and at once after a reconnect.
// The server's own words may change; this sentence is ours.
function onNotStored(event) {
  const entry = here().outbox.find((waiting) => waiting.ref === event.ref);
  if (!entry) return;  // answered already: a re-sent copy's twin
  entry.item.querySelector(".sending").textContent = "not stored yet, will retry…";
  showNotice(STORE_LATER);
  if (state.retryTimer !== null) return;  // this round's wait is set: it sends this one too
  waitThenFlush(backOff(state.unstored, STORE_BASE_MS, STORE_MAX_MS));
  state.unstored += 1;
}

// Refused for good (too long, say): say why and give the text back to fix it.
function onRefused(event) {
  showNotice(event.message);
  const entry = takeFromOutbox(event.ref);
  if (!entry) return;
  entry.item.remove();
  const input = $("message-input");
  if (!input.value) input.value = entry.text;  // never overwrite what is being typed
}

// ---- Events from the server --------------------------------------------------

function handleEvent(event) {
  switch (event.type) {
    case "welcome":
      onWelcome(event);
      break;
    case "message":
      onMessage(event);
      break;
    case "typing":
      onTyping(event.nick);
      break;
    case "join":
      addPerson(event.nick);
      addSystemLine(nickName(event.nick), " joined");
      break;
    case "leave":
      removePerson(event.nick);
      stoppedTyping(event.nick);
      addSystemLine(nickName(event.nick), " left");
      break;
    case "rooms":
      onRoomsChanged(event.rooms);
      break;
    case "nick":
      onRenamed(event);
      break;
    case "ack":
      onAck(event);
      break;
    case "error":
      onError(event);
      break;
    default:
      // A newer server may send events this page does not know yet.
      console.log("Unknown event:", event);
  }
}

function onWelcome(event) {
  state.failures = 0;
  state.restarting = false;
  state.nick = event.nick;
  state.typingSentAt = 0;  // a new connection: the room has not heard us typing
  adoptRoomName(event.room);
  setStatus("connected", "Connected as ", nickName(state.nick));
  if (state.resuming && !event.reset) {
    catchUp(event);
  } else {
    showFreshHistory(event.history);
  }
  state.online = [...event.online];
  renderOnline();
  onRoomsChanged(event.rooms || []);
  flushOutbox();
}

// We asked for `since`: the history holds just what we missed, so add it below.
function catchUp(event) {
  if (event.truncated) addSystemLine("Some messages were missed while you were away.");
  event.history.forEach(addMessage);  // addMessage skips any we already show
}

// The first connection, or the server lost its history (`reset`: ids start
// again): forget what we showed. Pending messages stay: they are still ours to send.
function showFreshHistory(history) {
  $("messages").querySelectorAll(":scope > :not(.pending)").forEach((item) => item.remove());
  here().lastId = null;
  history.forEach(addMessage);
}

function onRenamed(event) {
  if (event.old === state.nick) {
    state.nick = event.nick;
    remember(event.nick);
    setStatus("connected", "Connected as ", nickName(state.nick));
  }
  renamePerson(event.old, event.nick);  // after: so our own entry keeps its "me" mark
  stoppedTyping(event.old);
  addSystemLine(nickName(event.old), " is now ", nickName(event.nick));
}

// A message as it happens (not from a welcome's history).
function onMessage(message) {
  addMessage(message);
  stoppedTyping(message.nick);  // it was what they were typing
  if (message.nick !== state.nick) noticeUnread();
}

// ---- Rendering ---------------------------------------------------------------

function addMessage(message) {
  // Ids only grow, so one at or below the last shown is already on the page.
  const record = here();
  if (record.lastId !== null && message.id <= record.lastId) return;
  record.lastId = message.id;
  const item = document.createElement("li");
  item.className = "message";
  if (message.nick === state.nick) item.classList.add("mine");
  item.dataset.id = message.id;
  item.append(nickName(message.nick, "nick"), timeElement(message.ts), messageText(message.text));
  appendToList(item);
}

// A message of ours the server has not acknowledged yet, greyed out.
function pendingItem(text) {
  const item = document.createElement("li");
  item.className = "message mine pending";
  item.append(
    nickName(state.nick || state.wanted, "nick"),
    textElement("span", "sending", "sending…"),
    messageText(text),
  );
  return item;
}

// A line about the room: text, with nicknames as <bdi> elements (nickName).
function addSystemLine(...parts) {
  appendToList(sentence("li", "system", ...parts));
}

// Follow new messages only if the reader was already at the bottom, so
// scrolling back through history is not yanked away by each new line.
// Pending messages stay last, below everything the server has confirmed.
function appendToList(item) {
  const list = $("messages");
  const atBottom = isAtBottom(list);
  const isPending = item.classList.contains("pending");
  list.insertBefore(item, isPending ? null : list.querySelector(":scope > .pending"));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function isAtBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

// The same when the list changes size: a phone's keyboard opening or the
// screen turning would otherwise hide the newest messages below the fold.
function followOnResize() {
  const list = $("messages");
  let following = true;  // whether the reader was at the bottom before the resize
  list.addEventListener("scroll", () => { following = isAtBottom(list); });
  new ResizeObserver(() => {
    if (following) list.scrollTop = list.scrollHeight;
  }).observe(list);
}

function addPerson(nick) {
  // Our own join follows our welcome, which already listed us.
  if (!state.online.includes(nick)) state.online.push(nick);
  renderOnline();
}

function removePerson(nick) {
  state.online = state.online.filter((name) => name !== nick);
  renderOnline();
}

function renamePerson(old, nick) {
  state.online = state.online.map((name) => (name === old ? nick : name));
  renderOnline();
}

function renderOnline() {
  const items = state.online.map((nick) => {
    const item = document.createElement("li");
    item.className = "person";
    item.append(nickName(nick));  // isolated: an Arabic name keeps the list left-aligned
    if (nick === state.nick) item.classList.add("me");
    return item;
  });
  $("online").replaceChildren(...items);
  $("online-count").textContent = state.online.length;
}

// The connection's state, in text and, for our nickname, a <bdi> (nickName).
function setStatus(kind, ...parts) {
  $("status").dataset.state = kind;
  $("status").replaceChildren(...parts);
}

function showNotice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
}

function hideNotice() {
  $("notice").hidden = true;
}

// ---- What the person does ------------------------------------------------------

function onSend(event) {
  event.preventDefault();
  const input = $("message-input");
  if (!input.value.trim()) return;
  hideNotice();
  // Clearing is safe even when disconnected: the outbox keeps the text until
  // the server has stored it, and a refused message comes back to this box.
  queueMessage(input.value);
  input.value = "";
  // Our message ends "typing…" for the others: the next key should start it again.
  state.typingSentAt = 0;
  input.focus();
}

function onComposerKey(event) {
  // Enter sends, Shift+Enter adds a newline. isComposing: Enter that confirms
  // an input-method (e.g. Japanese) composition must not send half a word.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
}

function onRename(event) {
  event.preventDefault();
  const nick = $("rename-input").value.trim();
  if (!nick) return;
  hideNotice();
  // The nickname changes when the server's "nick" event says so, not before:
  // it may refuse (taken, too long) with an error event instead.
  if (send({ type: "nick", nick })) $("rename-input").value = "";
}

start();
