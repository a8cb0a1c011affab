// What the server's events do to the page: one `switch (event.type)`, one
// function per event (docs/protocol.md has them all). socket.js hands each
// event to handleEvent(); the modules it calls own what changes.

import {
  forgetTypingSent, noticeUnread, startedTyping, stoppedTyping,
} from "./attention.js";
import {
  addMessage, addSystemLine, clearMessages, isNewEntry, markNotStored, removePending,
} from "./messages.js";
import { chooseNick, myNick, setMyNick } from "./nickname.js";
import { addPerson, removePerson, renamePerson, setPeople } from "./people.js";
import { adoptRoomName, setRooms } from "./rooms.js";
import { holdBack, notStoredYet, refused, resuming, stored, unsent, welcomed } from "./socket.js";
import { setStatus, showNotice, withdrawNotice } from "./status.js";
import { nickName } from "./text.js";

const STORE_LATER = "The server could not store your message yet; the page will send it again.";

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
  setMyNick(event.nick);
  forgetTypingSent();  // a new connection: the room has not heard us typing
  adoptRoomName(event.room);
  setStatus("connected", "Connected as ", nickName(myNick()));
  if (resuming() && !event.reset) {
    catchUp(event);
  } else {
    showFreshHistory(event.history);
  }
  setPeople(event.online);
  setRooms(event.rooms || []);
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

// One entry of the room's log, from a welcome's history or as it happens: each
// kind changes the page its own way, once (ids count every kind).
function applyEntry(entry) {
  if (!isNewEntry(entry)) return false;
  switch (entry.type) {
    case "message":
      addMessage(entry);
      break;
    default:
      console.log("Unknown entry:", entry);  // a newer server's kind: skipped, not asked again
  }
  return true;
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
}

// A message as it happens (not from a welcome's history).
function onMessage(message) {
  if (!applyEntry(message)) return;
  stoppedTyping(message.nick);  // it was what they were typing
  if (message.nick !== myNick()) noticeUnread();
}

// ---- The server's answers to our messages ------------------------------------

// Stored: the real message was already shown (the broadcast comes before the
// ack, or it was in the welcome's history), so the pending copy goes.
function onAck(event) {
  if (stored(event.ref)) removePending(event.ref);
  if (unsent() === 0) withdrawNotice(STORE_LATER);
}

function onError(event) {
  if (event.ref === undefined) {
    showNotice(event.message);  // not about a message of ours: a nickname change, say
  } else if (event.code === "rate_limited") {
    // A missing retry_after must not turn into a resend loop at full speed.
    holdBack((event.retry_after || 1) * 1000);
  } else if (event.code === "unavailable") {
    onNotStored(event);
  } else {
    onRefused(event);
  }
}

// unavailable: the server could not store it (in a cluster, Redis is away).
// Nothing the person typed is lost: it stays pending and socket.js sends it
// again. The server's own words may change; this sentence is ours.
function onNotStored(event) {
  if (!notStoredYet(event.ref)) return;  // answered already: a re-sent copy's twin
  markNotStored(event.ref);
  showNotice(STORE_LATER);
}

// Refused for good (too long, say): say why and give the text back to fix it.
function onRefused(event) {
  showNotice(event.message);
  const text = refused(event.ref);
  if (text === null) return;
  removePending(event.ref);
  const input = document.getElementById("message-input");
  if (!input.value) input.value = text;  // never overwrite what is being typed
}
