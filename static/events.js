// What the server's events do to the page: one `switch (event.type)`, one
// function per event (docs/protocol.md has them all). socket.js hands each
// event to handleEvent(); the modules it calls own what changes.

import {
  forgetTypingSent, noticeUnread, startedTyping, stoppedTyping,
} from "./attention.js";
import { announceMessage } from "./announcer.js";
import { applyEntry } from "./entries.js";
import { keyRefused } from "./hostkey.js";
import { becomeHost, commandAnswered, messageActions, refreshRole } from "./hosting.js";
import {
  addSystemLine, clearMessages, markNotStored, markOwn, removePending,
} from "./messages.js";
import { chooseNick, myNick, setMyNick } from "./nickname.js";
import {
  addPerson, removePerson, renamePerson, setHosts, setMuted, setPeople,
} from "./people.js";
import { adoptRoomName, setRooms } from "./rooms.js";
import { holdBack, notStoredYet, refused, resuming, stored, unsent, welcomed } from "./socket.js";
import { setStanding } from "./standing.js";
import { setStatus, showNotice, withdrawNotice } from "./status.js";
import { clockTime, nickName } from "./text.js";

const STORE_LATER = "The server could not store your message yet; the page will send it again.";
const KEY_REFUSED = "This page's host key is not the host key (any more): the page has forgotten"
  + " it. Open the host link the server printed to be the host again.";

let heldNotice = null;  // the notice that says our messages wait (slow mode, not stored yet)

export function handleEvent(event) {
  switch (event.type) {
    case "welcome":
      onWelcome(event);
      break;
    case "message":
      onMessage(event);
      break;
    case "typing":
      startedTyping(event.nick);
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
      setRooms(event.rooms);
      break;
    case "hosts":
      setHosts(event.hosts);
      refreshRole();  // we may have been made host, or stopped being one
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
      if (isEntry(event)) {
        applyEntry(event);  // the log's other kinds (a delete, a pin...): entries.js
      } else {
        console.log("Unknown event:", event);  // a newer server's live news
      }
  }
}

// An entry of the room's log carries its room and its id; live news has no id,
// and an ack no room (docs/protocol.md, "The room's log").
function isEntry(event) {
  return typeof event.room === "string" && Number.isInteger(event.id);
}

function onWelcome(event) {
  setMyNick(event.nick);
  forgetTypingSent();  // a new connection: the room has not heard us typing
  adoptRoomName(event.room);
  setStatus("connected", "Connected as ", nickName(myNick()));
  if (resuming() && !event.reset) {
    catchUp(event);
  } else {
    showFreshHistory(event.history);
  }
  // After the history: the welcome's standing has the last word over older entries.
  setStanding(event);
  setPeople(event.online);
  setHosts(event.hosts || []);
  setMuted(event.muted || {});
  setRooms(event.rooms || []);
  becomeHost();  // before the outbox: a host may post in a locked room
  welcomed(event.room);  // last: the outbox goes again, below what the history showed
}

// We asked for `since`: the history holds just what we missed, so add it below.
function catchUp(event) {
  if (event.truncated) addSystemLine("Some messages were missed while you were away.");
  event.history.forEach(applyEntry);  // skips any we already applied
}

// The first connection, or the server lost its history (`reset`: ids start
// again): forget what we showed, and show the recent history.
function showFreshHistory(history) {
  clearMessages();
  history.forEach(applyEntry);
}

function onRenamed(event) {
  if (event.old === myNick()) {
    setMyNick(event.nick);
    chooseNick(event.nick);  // remembered for next time
    setStatus("connected", "Connected as ", nickName(myNick()));
  }
  renamePerson(event.old, event.nick);  // after: so our own entry keeps its "me" mark
  stoppedTyping(event.old);
  addSystemLine(nickName(event.old), " is now ", nickName(event.nick));
  if (event.nick === myNick()) refreshRole();  // a made host's controls follow the `hosts` event
}

// A message as it happens (not from a welcome's history).
function onMessage(message) {
  if (!applyEntry(message)) return;
  stoppedTyping(message.nick);  // it was what they were typing
  if (message.nick === myNick()) return;
  noticeUnread();
  announceMessage(message);  // the live region: what happens now, not the history
}

// ---- The server's answers to our messages ------------------------------------

// Stored: the real message was already shown (the broadcast comes before the
// ack, or it was in the welcome's history), so the pending copy goes.
// Ours: the server lets this page delete it, so it gets its menu.
function onAck(event) {
  if (commandAnswered(event)) return;  // a host's command (a delete, a pin...)
  if (stored(event.ref)) {
    removePending(event.ref);
    const item = markOwn(event.id);
    if (item !== null) messageActions(item);
  }
  if (unsent() === 0) withdrawHeld();
}

function onError(event) {
  if (commandAnswered(event)) return;  // shown as a notice
  if (event.ref === undefined) {
    onAnswer(event);
  } else if (event.code === "rate_limited") {
    // A missing retry_after must not turn into a resend loop at full speed.
    holdBack((event.retry_after || 1) * 1000);
  } else if (event.code === "slow_mode") {
    onSlowMode(event);
  } else if (event.code === "unavailable") {
    onNotStored(event);
  } else {
    onRefused(event);
  }
}

// Not about a message of ours: a nickname change, say, or our host key.
function onAnswer(event) {
  if (event.code === "forbidden" && keyRefused()) {
    showNotice(KEY_REFUSED);  // once: the key is forgotten, so it is never presented again
    refreshRole();
  } else {
    showNotice(event.message);
  }
}

// slow_mode: like rate_limited, the message waits and goes again after
// retry_after; the notice says why it waits, until it is stored.
function onSlowMode(event) {
  const wait = event.retry_after || 1;
  holdBack(wait * 1000);
  showHeld(`${event.message} Yours will be sent in ${Math.ceil(wait)} s.`);
}

function showHeld(text) {
  heldNotice = text;
  showNotice(text);
}

function withdrawHeld() {
  if (heldNotice !== null) withdrawNotice(heldNotice);
  heldNotice = null;
}

// unavailable: the server could not store it (in a cluster, Redis is away).
// Nothing the person typed is lost: it stays pending and socket.js sends it
// again. The server's own words may change; this sentence is ours.
function onNotStored(event) {
  if (!notStoredYet(event.ref)) return;  // answered already: a re-sent copy's twin
  markNotStored(event.ref);
  showHeld(STORE_LATER);
}

// Refused for good (too long, say; muted, locked): say why and give the text back to fix it.
function onRefused(event) {
  const until = event.code === "muted" && event.until ? ` (until ${clockTime(event.until)})` : "";
  showNotice(event.message + until);
  const text = refused(event.ref);
  if (text === null) return;
  removePending(event.ref);
  const input = document.getElementById("message-input");
  if (!input.value) input.value = text;  // never overwrite what is being typed
}
