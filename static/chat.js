// The chat page: pick a nickname, connect to /ws, show the room, reconnect when the socket drops.
//
// The server sends data, never HTML (docs/protocol.md). Everything another
// person typed (messages, nicknames) goes into the page through textContent,
// so "<img onerror=...>" stays text and runs nothing. Never use innerHTML here.

"use strict";

const NICK_KEY = "chat.nick";       // where the chosen nickname is remembered
const RETRY_BASE_MS = 500;          // first reconnect waits about this long...
const RETRY_MAX_MS = 10000;         // ...doubling each failure, up to this

const $ = (id) => document.getElementById(id);

const state = {
  wanted: "",        // the nickname we ask for when (re)connecting
  nick: "",          // the nickname the server gave us: welcome.nick is authoritative
  online: [],        // nicknames online, in the order they arrived
  socket: null,
  failures: 0,       // reconnects since the last welcome; drives the back-off
};

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

function socketUrl(nick) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + "/ws?nick=" + encodeURIComponent(nick);
}

function connect() {
  setStatus("connecting", "Connecting…");
  const socket = new WebSocket(socketUrl(state.wanted));
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

function onClose() {
  state.socket = null;
  const delay = retryDelay(state.failures);
  state.failures += 1;
  const seconds = Math.ceil(delay / 1000);
  setStatus("disconnected", `Disconnected — reconnecting in ${seconds} s…`);
  setTimeout(connect, delay);
}

// Exponential back-off with jitter: after a server restart every page
// reconnects, and the random part keeps them from all arriving at once.
function retryDelay(failures) {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failures);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function send(command) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) {
    showNotice("Not connected: nothing was sent. Try again once connected.");
    return false;
  }
  state.socket.send(JSON.stringify(command));
  return true;
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
    case "error":
      showNotice(event.message);
      break;
    default:
      // A newer server may send events this page does not know yet.
      console.log("Unknown event:", event);
  }
}

function onWelcome(event) {
  state.failures = 0;
  state.nick = event.nick;
  setStatus("connected", `Connected as ${state.nick}`);
  // Start from scratch so a reconnect never shows the history twice.
  $("messages").replaceChildren();
  event.history.forEach(addMessage);
  state.online = [...event.online];
  renderOnline();
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
function appendToList(item) {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(item);
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
  // Keep the text in the box if it could not be sent, so nothing typed is lost.
  if (send({ type: "message", text: input.value })) input.value = "";
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
