// The chat page: pick a nickname, connect to /ws, show the room, reconnect when the socket drops.
//
// The server sends data, never HTML (docs/protocol.md). Everything another
// person typed (messages, nicknames) goes into the page through textContent,
// so "<img onerror=...>" stays text and runs nothing. Never use innerHTML here.
//
// Nothing lost, nothing twice: a reconnect asks only for the messages after the
// last one shown (`since`), and each message typed waits in an outbox, greyed
// out, until the server's `ack` says it is stored; until then it is sent again
// after every reconnect, and the server stores each `ref` only once.

"use strict";

const NICK_KEY = "chat.nick";       // where the chosen nickname is remembered
const RETRY_BASE_MS = 500;          // first reconnect waits about this long...
const RETRY_MAX_MS = 10000;         // ...doubling each failure, up to this
const GOING_AWAY = 1001;            // close code: the server is shutting down or restarting

const $ = (id) => document.getElementById(id);

const state = {
  wanted: "",        // the nickname we ask for when (re)connecting
  nick: "",          // the nickname the server gave us: welcome.nick is authoritative
  online: [],        // nicknames online, in the order they arrived
  socket: null,
  failures: 0,       // reconnects since the last welcome; drives the back-off
  restarting: false, // the server said it is going away (1001); cleared by the next welcome
  lastId: null,      // id of the last message shown; a reconnect asks for what came after it
  resuming: false,   // this connection asked for `since`: its welcome continues our list
  outbox: [],        // messages typed but not yet acknowledged, oldest first: {ref, text, item}
  typed: 0,          // how many messages this page has queued; numbers their refs
  retryTimer: null,  // set while the server asks us to slow down (rate_limited)
};

// A random, secret name for this page load. Our refs start with it, so they
// never repeat those of an earlier load with the same nickname; and the socket
// URL carries it, so when we reconnect while the server still holds our old,
// silently dead connection, the new one takes over our nickname instead of
// becoming "ada-2". Not crypto.randomUUID: browsers only offer it on https
// pages, and a classroom chat is served over plain http.
const PAGE_SESSION = randomHex(16);

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
  $("rename-form").addEventListener("submit", onRename);
}

function onJoin(event) {
  event.preventDefault();
  const nick = $("nick-input").value.trim();
  if (!nick) return;
  remember(nick);
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

function socketUrl(nick, since) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let url = scheme + "//" + location.host + "/ws?nick=" + encodeURIComponent(nick)
    + "&session=" + PAGE_SESSION;
  if (since !== null) url += "&since=" + since;
  return url;
}

function connect() {
  setStatus("connecting", "Connecting…");
  // Once messages are shown, ask only for the ones after them. The first
  // connection of a page load asks for nothing and gets the recent history.
  state.resuming = state.lastId !== null;
  const socket = new WebSocket(socketUrl(state.wanted, state.lastId));
  socket.addEventListener("message", (frame) => onFrame(frame.data));
  // A failed connection fires "error" and then "close", so "close" alone is enough.
  socket.addEventListener("close", onClose);
  state.socket = socket;
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
  const delay = retryDelay(state.failures);
  state.failures += 1;
  const seconds = Math.ceil(delay / 1000);
  if (state.restarting) {
    setStatus("disconnected", "Server restarting — reconnecting…");
  } else {
    setStatus("disconnected", `Disconnected — reconnecting in ${seconds} s…`);
  }
  setTimeout(connect, delay);
}

// Exponential back-off with jitter: after a server restart every page
// reconnects, and the random part keeps them from all arriving at once.
function retryDelay(failures) {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failures);
  return ceiling / 2 + Math.random() * (ceiling / 2);
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
function queueMessage(text) {
  state.typed += 1;
  const entry = { ref: `c-${PAGE_SESSION}-${state.typed}`, text, item: pendingItem(text) };
  state.outbox.push(entry);
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
  state.outbox.forEach(transmit);
}

// Take the entry with this ref out of the outbox; null if it is not there.
function takeFromOutbox(ref) {
  const index = state.outbox.findIndex((entry) => entry.ref === ref);
  return index === -1 ? null : state.outbox.splice(index, 1)[0];
}

// Stored: the real message was already shown (the broadcast comes before the
// ack, or it was in the welcome's history), so the pending copy goes.
function onAck(event) {
  const entry = takeFromOutbox(event.ref);
  if (entry) entry.item.remove();
}

function onError(event) {
  if (event.ref === undefined) {
    showNotice(event.message);  // not about a message of ours: a nickname change, say
  } else if (event.code === "rate_limited") {
    waitThenFlush(event.retry_after);
  } else {
    onRefused(event);
  }
}

// rate_limited: the message was not stored. Hold the whole outbox, then send
// what is left in order, so a newer message cannot overtake the refused one.
function waitThenFlush(seconds) {
  if (state.retryTimer !== null) return;  // already waiting: that flush sends this one too
  // A missing retry_after must not turn into a resend loop at full speed.
  state.retryTimer = setTimeout(flushOutbox, (seconds || 1) * 1000);
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
      addMessage(event);
      break;
    case "join":
      addPerson(event.nick);
      addSystemLine(`${event.nick} joined`);
      break;
    case "leave":
      removePerson(event.nick);
      addSystemLine(`${event.nick} left`);
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
  setStatus("connected", `Connected as ${state.nick}`);
  if (state.resuming && !event.reset) {
    catchUp(event);
  } else {
    showFreshHistory(event.history);
  }
  state.online = [...event.online];
  renderOnline();
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
  state.lastId = null;
  history.forEach(addMessage);
}

function onRenamed(event) {
  if (event.old === state.nick) {
    state.nick = event.nick;
    remember(event.nick);
    setStatus("connected", `Connected as ${state.nick}`);
  }
  renamePerson(event.old, event.nick);  // after: so our own entry keeps its "me" mark
  addSystemLine(`${event.old} is now ${event.nick}`);
}

// ---- Rendering ---------------------------------------------------------------

function addMessage(message) {
  // Ids only grow, so one at or below the last shown is already on the page.
  if (state.lastId !== null && message.id <= state.lastId) return;
  state.lastId = message.id;
  const item = document.createElement("li");
  item.className = "message";
  if (message.nick === state.nick) item.classList.add("mine");
  item.dataset.id = message.id;
  item.append(
    textElement("span", "nick", message.nick),
    timeElement(message.ts),
    textElement("div", "text", message.text),
  );
  appendToList(item);
}

// A message of ours the server has not acknowledged yet, greyed out.
function pendingItem(text) {
  const item = document.createElement("li");
  item.className = "message mine pending";
  item.append(
    textElement("span", "nick", state.nick || state.wanted),
    textElement("span", "sending", "sending…"),
    textElement("div", "text", text),
  );
  return item;
}

function addSystemLine(text) {
  appendToList(textElement("li", "system", text));
}

function textElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;  // text, never HTML: see the note at the top
  return element;
}

function timeElement(ts) {
  const when = new Date(ts);
  const element = textElement(
    "time", "time", when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
  );
  element.dateTime = when.toISOString();
  element.title = when.toLocaleString();
  return element;
}

// Follow new messages only if the reader was already at the bottom, so
// scrolling back through history is not yanked away by each new line.
// Pending messages stay last, below everything the server has confirmed.
function appendToList(item) {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const isPending = item.classList.contains("pending");
  list.insertBefore(item, isPending ? null : list.querySelector(":scope > .pending"));
  if (atBottom) list.scrollTop = list.scrollHeight;
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
    const item = textElement("li", "person", nick);
    if (nick === state.nick) item.classList.add("me");
    return item;
  });
  $("online").replaceChildren(...items);
  $("online-count").textContent = state.online.length;
}

function setStatus(kind, text) {
  $("status").dataset.state = kind;
  $("status").textContent = text;
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
