// The one connection to the server, and every frame the page sends.
//
// Owns the socket (its URL built from `location`: `wss:` under https),
// reconnecting with back-off, and the outbox: the messages typed but not yet
// stored, each with its ref. Every frame leaves through send(). It touches no
// element: connect() is told where to connect and whom to tell what arrives.
//
// Nothing lost, nothing twice: a reconnect asks only for the messages after
// the last one shown (`since`), and each message typed waits in the outbox
// until the server's `ack` says it is stored; until then it is sent again
// after every reconnect, and after a pause when the server answers that it
// could not store it (`unavailable`). The server stores each `ref` only once.

const RETRY_BASE_MS = 500;          // first reconnect waits about this long...
const RETRY_MAX_MS = 10000;         // ...doubling each failure, up to this
const STORE_BASE_MS = 1000;         // a message the server could not store goes again after this...
const STORE_MAX_MS = 30000;         // ...doubling while it still cannot, up to this
const GOING_AWAY = 1001;            // close code: the server is shutting down or restarting
const REMOVED = [4000, 4003];       // close codes: a host kicked us out of the room, or banned us

// A random, secret name for this page load. The socket URL carries it, so when
// we reconnect while the server still holds our old, silently dead connection,
// the new one takes over our nickname instead of becoming "ada-2". Whoever
// knows it could take over our nickname too, so it goes nowhere else (but the
// X-Session header of our uploads, which the server ties to this page). Not
// crypto.randomUUID: browsers only offer it on https pages, and a classroom
// chat is served over plain http.
const PAGE_SESSION = randomHex(16);
// Our refs start with a random prefix of their own, so they never repeat those
// of an earlier load with the same nickname. Refs are stored with the messages
// (and name keys in a cluster's Redis): the session must not be in them.
const REF_PREFIX = randomHex(8);

let page = null;           // what connect() was given: where(), onEvent(), onStatus()
let socket = null;         // the open (or opening) connection; null while we wait to retry
let room = null;           // the room this connection is for, as where() said
let resumed = false;       // this connection asked for `since`: its welcome continues the list
let failures = 0;          // reconnects since the last welcome; drives the back-off
let restarting = false;    // the server said it is going away (1001); cleared by the next welcome
let reconnectTimer = null; // set while waiting to reconnect

// Each room has its own outbox: a message typed in general cannot go through a
// socket in maths. It waits for the next welcome in general (main.js says more).
const outboxes = new Map(); // room -> [{ref, text, fields, giveBack}], oldest first
let typed = 0;             // how many messages this page has queued; numbers their refs
let commanded = 0;         // how many host commands this page has sent; numbers their refs
let retryTimer = null;     // set while the outbox waits to go again (rate_limited, unavailable)
let unstored = 0;          // `unavailable` answers since the last ack; drives that wait

function randomHex(byteCount) {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// ---- The connection -------------------------------------------------------------

// Connect, and stay connected from now on. `callbacks.where()` says, before
// each attempt, {nick, room, since}; `onEvent(event)` gets each event the
// server sends; `onStatus(kind, text)` hears "connecting" and "disconnected"
// (the page says "connected" itself, when the welcome names us).
export function connect(callbacks) {
  page = callbacks;
  open();
}

function socketUrl({ nick, room, since }) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams({ nick, session: PAGE_SESSION, room });
  if (since !== null) query.set("since", since);
  return scheme + "//" + location.host + "/ws?" + query;
}

function open() {
  reconnectTimer = null;
  page.onStatus("connecting", "Connecting…");
  const target = page.where();
  room = target.room;
  // Once messages of this room are shown, ask only for the ones after them.
  // The first visit to a room asks for nothing and gets the recent history.
  resumed = target.since !== null;
  const opened = new WebSocket(socketUrl(target));
  // A socket we have replaced (switching rooms) may still report: ignore it.
  opened.addEventListener("message", (frame) => {
    if (opened === socket) onFrame(frame.data);
  });
  // A failed connection fires "error" and then "close", so "close" alone is enough.
  opened.addEventListener("close", (event) => {
    if (opened === socket) onClose(event);
  });
  socket = opened;
}

// Drop the current socket (if any) and connect at once: used to change rooms.
export function reconnectNow() {
  clearTimeout(reconnectTimer);
  clearTimeout(retryTimer);
  retryTimer = null;
  const old = socket;
  socket = null;  // first, so its close event is ignored
  if (old !== null) old.close(1000, "Changing rooms");
  failures = 0;
  restarting = false;
  open();
}

function onFrame(data) {
  let event;
  try {
    event = JSON.parse(data);
  } catch (error) {
    console.warn("Ignoring a frame that is not JSON:", data);
    return;
  }
  page.onEvent(event);
}

// Whatever the reason, reconnect; the outbox keeps what was not stored yet.
// Except when a host removed us: the server would refuse us for a while (a
// kick) or until lifted (a ban), so the page says why and waits to be told to
// go (another room, or a reload) instead of knocking again and again.
function onClose(event) {
  socket = null;
  if (REMOVED.includes(event.code)) {
    page.onStatus("removed", event.reason || "A host removed you from the room.");
    return;
  }
  if (event.code === GOING_AWAY) restarting = true;
  const delay = backOff(failures, RETRY_BASE_MS, RETRY_MAX_MS);
  failures += 1;
  const seconds = Math.ceil(delay / 1000);
  if (restarting) {
    page.onStatus("disconnected", "Server restarting — reconnecting…");
  } else {
    page.onStatus("disconnected", `Disconnected — reconnecting in ${seconds} s…`);
  }
  reconnectTimer = setTimeout(open, delay);
}

// Exponential back-off with jitter, in ms: after a server restart (or Redis's)
// every page tries again, and the random part keeps them from all arriving at once.
function backOff(count, base, ceiling) {
  const longest = Math.min(ceiling, base * 2 ** count);
  return longest / 2 + Math.random() * (longest / 2);
}

// Whether this connection asked for `since`, so its welcome's history only
// continues what the page shows.
export function resuming() {
  return resumed;
}

// The welcome arrived: the back-off starts over, the outbox takes the room's
// name as the server spells it, and every unacknowledged message goes again.
export function welcomed(serverRoom) {
  failures = 0;
  restarting = false;
  if (serverRoom !== undefined && serverRoom !== room) {
    outboxes.set(serverRoom, outbox());
    outboxes.delete(room);
    room = serverRoom;
  }
  flush();
}

// Send one frame now, if the socket is open; return whether it went. Every
// frame the page sends goes through here: messages (from the outbox below),
// nickname changes and `typing`.
export function send(frame) {
  if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

// A ref for a host's command (delete, mute, lock...), so the server's answer
// (an ack, or an error) names it. Like a message's: our random prefix, never the session.
export function commandRef() {
  commanded += 1;
  return `h-${REF_PREFIX}-${commanded}`;
}

// The session, for the X-Session header of an upload (uploads.js): only this
// page may then post the file. A header, never a URL or a ref.
export function pageSession() {
  return PAGE_SESSION;
}

// ---- The outbox: messages typed but not yet stored by the server ----------------

function outbox() {
  if (!outboxes.has(room)) outboxes.set(room, []);
  return outboxes.get(room);
}

// Queue a typed message, send it if we can and return its ref. Typing while
// disconnected works too: the next welcome sends it. `fields` go in its frame
// too: `{reply: 42}` answers message 42, and `{type: "edit", target: 42}` makes
// it an edit of 42 (docs/protocol.md, "Editing, replying, reacting"): an edit
// waits in the same outbox, so it keeps its place among what was typed.
// `giveBack(text)`, if given, gets the text back when it is refused for good.
export function queue(text, fields = {}, giveBack = null) {
  typed += 1;
  const entry = { ref: `c-${REF_PREFIX}-${typed}`, text, fields, giveBack };
  outbox().push(entry);
  // While we wait out a rate limit, the retry sends it, after the older ones.
  if (retryTimer === null) transmit(entry);
  return entry.ref;
}

function transmit(entry) {
  // Closed: the next welcome sends it.
  send({ type: "message", ...entry.fields, text: entry.text, ref: entry.ref });
}

// Send every unacknowledged message again, oldest first. The server stores a
// ref only once, so one it already has just gets its original ack again.
function flush() {
  clearTimeout(retryTimer);
  retryTimer = null;
  outbox().forEach(transmit);
}

// Take the entry with this ref out of the outbox; null if it is not there.
function take(ref) {
  const waiting = outbox();
  const index = waiting.findIndex((entry) => entry.ref === ref);
  return index === -1 ? null : waiting.splice(index, 1)[0];
}

// `ack`: stored. Return whether the message was still waiting here.
export function stored(ref) {
  unstored = 0;  // the server stores again
  return take(ref) !== null;
}

// rate_limited or unavailable: the message was not stored. Hold the whole
// outbox, then send what is left in order, so a newer message cannot overtake
// the refused one.
export function holdBack(ms) {
  if (retryTimer !== null) return;  // already waiting: that flush sends this one too
  retryTimer = setTimeout(flush, ms);
}

// unavailable: the server could not store it (in a cluster, Redis is away).
// It stays queued and goes again, later each time the server still cannot,
// and at once after a reconnect. Return whether it is still waiting here
// (false: answered already, a re-sent copy's twin).
export function notStoredYet(ref) {
  if (!outbox().some((entry) => entry.ref === ref)) return false;
  if (retryTimer === null) {  // else this round's wait is set: it sends this one too
    holdBack(backOff(unstored, STORE_BASE_MS, STORE_MAX_MS));
    unstored += 1;
  }
  return true;
}

// Refused for good (too long, say): take it out and return its text, to give
// back to the person; null if it was not waiting here, or went back to its own
// giveBack (an edit: in the composer as a message, it would post a new one).
export function refused(ref) {
  const entry = take(ref);
  if (entry === null) return null;
  if (entry.giveBack === null) return entry.text;
  entry.giveBack(entry.text);
  return null;
}

// How many messages typed in this room (by default, the connection's) wait to be stored.
export function unsent(name = room) {
  return outboxes.has(name) ? outboxes.get(name).length : 0;
}

// Whether the outbox waits out a refusal: our messages need the room's rate
// limit more than `typing` does.
export function holdingBack() {
  return retryTimer !== null;
}
