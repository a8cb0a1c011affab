// The chat page: pick a nickname, connect, chat, switch rooms. This is the
// entry point (templates/index.html loads it as a module); it starts the
// other modules, wires them together and handles the forms the person uses.
//
// Each module owns its state and exports what others need; none of them
// imports this file, so where one needs the page to act, main gives it a callback:
//   socket.js     the one connection, send(), reconnecting, the outbox of unstored messages
//   events.js     what each server event does to the page (the switch)
//   entries.js    what each kind of entry of the room's log does (the other switch)
//   messages.js   the message list, with each room's last id (`since`)
//   people.js     who is online in this room, who of them are hosts, who is muted
//   standing.js   the room's topic, pinned message, lock and slow mode, at its top
//   hostkey.js    the host key: from the host link to this browser's storage, to the socket
//   hosting.js    the host's controls: menus on messages and people, the room's controls
//   menu.js       a menu behind a button, for the keyboard as for the mouse
//   status.js     the status line and the notice
//   rooms.js      the room in the address, the rooms list, the invite panel
//   attention.js  "ada is typing…", the unread count, the beep
//   nickname.js   the nickname chosen and the one the server gave
//   uploads.js    files from the attach button, a paste or a drop, uploaded then posted
//   attachments.js  a message's file: a thumbnail or a download link
//   announcer.js  the live region that reads out new messages
//   text.js       what people typed, as text nodes and safe links
//   markdown.js   a message's text as Markdown, maths and code, sanitised
//   composing.js  what the composer is doing: a new message, a reply, an edit
//   replies.js    "Reply", and the quote of what a message answers
//   edits.js      "Edit" on our own messages, and edits shown as they come
//   reactions.js  the reactions under each message, and their picker
//   mentions.js   "@ada": messages that mention us, and notifications of them
//   autocomplete.js  the "@" list of nicknames in the composer
//
// The server sends data, never HTML (docs/protocol.md). Everything another
// person typed goes into the page as text (see text.js), or as Markdown that
// markdown.js renders and sanitises, so "<img onerror=...>" stays text and
// runs nothing. Never use innerHTML here.

import {
  forgetTyping, forgetTypingSent, startAttention, tellTyping, unlockAudio,
} from "./attention.js";
import { mentionKey, startAutocomplete } from "./autocomplete.js";
import { composerEscape, composing, startComposing, stopComposing } from "./composing.js";
import { editRefused } from "./edits.js";
import { handleEvent } from "./events.js";
import {
  becomeHost, personControls, pinControls, refreshPanel, startHosting,
} from "./hosting.js";
import {
  addPending, followOnResize, lastShownId, messageItem, messageSource, switchList,
} from "./messages.js";
import { mentionArrived, startMentions } from "./mentions.js";
import { chooseNick, hasJoined, rememberedNick, wantedNick } from "./nickname.js";
import { setHosts, setMuted, setPeople, startPeople } from "./people.js";
import { openPicker } from "./reactions.js";
import { showPendingReply } from "./replies.js";
import { currentRoom, startRooms } from "./rooms.js";
import { connect, queue, reconnectNow, send, unsent } from "./socket.js";
import { forgetStanding, startStanding } from "./standing.js";
import { hideNotice, setStatus, showNotice } from "./status.js";
import { startUploads } from "./uploads.js";

const $ = (id) => document.getElementById(id);

function start() {
  // First: a host link's key (#host=KEY) leaves the address bar before anything else.
  startRooms({ onSwitch: onRoomSwitch, onHostKey: becomeHost, showNotice });
  $("nick-input").value = rememberedNick();
  $("join-form").addEventListener("submit", onJoin);
  $("composer").addEventListener("submit", onSend);
  $("message-input").addEventListener("keydown", onComposerKey);
  $("code-button").addEventListener("click", onCodeButton);
  $("message-input").addEventListener("input", () => tellTyping($("message-input").value));
  $("rename-form").addEventListener("submit", onRename);
  startUploads();  // the attach button, paste and drop
  startAttention();
  followOnResize();
  startPeople({ controls: personControls });
  startStanding({ pinControls, changed: refreshPanel });
  startHosting({ react: openPicker });
  startComposing();
  startAutocomplete();
  startMentions();
}

// ---- Joining ---------------------------------------------------------------------

function onJoin(event) {
  event.preventDefault();
  const nick = $("nick-input").value.trim();
  if (!nick) return;
  chooseNick(nick);
  unlockAudio();  // a click: the moment a browser allows a page to make sound
  $("join-form").hidden = true;
  $("chat").hidden = false;
  $("message-input").focus();
  connect({ where, onEvent, onStatus: onConnection });
}

// Each event the server sends. A message that comes as it happens (not in a
// welcome's history, and not one shown already) may tell us we were mentioned.
function onEvent(event) {
  const last = lastShownId();
  handleEvent(event);
  if (event.type === "message" && (last === null || event.id > last)) mentionArrived(event);
}

// What each connection asks for: who we are, which room, and what we already show.
function where() {
  return { nick: wantedNick(), room: currentRoom(), since: lastShownId() };
}

function onConnection(kind, text) {
  setStatus(kind, text);
  // Nobody can tell us they stopped typing while we are away.
  if (kind === "disconnected" || kind === "removed") forgetTyping();
  if (kind === "removed") showNotice(text);  // a host kicked or banned us: the server's reason
}

// ---- Changing rooms ----------------------------------------------------------------

// The address now names another room (rooms.js): show its list and connect there.
//
// The outbox belongs to a room. Messages typed in general and not yet stored
// cannot go through a socket in maths, and opening a second socket just to
// deliver them would show us leaving and joining general. So they wait in
// general's outbox, and are sent again by the welcome when we come back:
// each still arrives once, because the server stores a ref once (it remembers
// refs for 10 minutes: one sent just before leaving, whose ack we left behind,
// could appear twice if we stay away longer). The notice says they wait,
// rather than keeping the person from leaving.
function onRoomSwitch(from, to) {
  const waiting = unsent(from);
  if (waiting > 0) {
    showNotice(`${waiting} message${waiting === 1 ? "" : "s"} for #${from} will be sent`
      + ` when you come back to #${from}.`);
  } else {
    hideNotice();
  }
  stopComposing();  // a reply or an edit names a message of the room we leave
  switchList(from, to);
  forgetStanding();  // the new room's welcome says its own
  if (!hasJoined()) return;  // not joined yet: Join connects to this room
  setPeople([]);
  setHosts([]);
  setMuted({});
  forgetTyping();
  reconnectNow();
}

// ---- What the person does ------------------------------------------------------------

function onSend(event) {
  event.preventDefault();
  const input = $("message-input");
  const text = input.value;
  if (!text.trim()) return;
  hideNotice();
  // Clearing is safe even when disconnected: the outbox keeps the text until
  // the server has stored it, and a refused message comes back to this box.
  // An edit waits in the outbox too; the message shows it when its entry comes.
  const about = composing();
  if (about?.kind === "edit") {
    if (text !== messageSource(messageItem(about.id))) {
      queue(text, { type: "edit", target: about.id }, (back) => editRefused(about.id, back));
    }
  } else {
    const pending = addPending(queue(text, about === null ? {} : { reply: about.id }), text);
    if (about !== null) showPendingReply(pending, about.id);
  }
  input.value = "";
  stopComposing();  // after an edit, the box gets back what was typed before it
  // Our message ends "typing…" for the others: the next key should start it again.
  forgetTypingSent();
  input.focus();
}

function onComposerKey(event) {
  if (mentionKey(event) || composerEscape(event)) return;  // the "@" list's, or ending a reply or edit
  // Enter sends, Shift+Enter adds a newline. isComposing: Enter that confirms
  // an input-method (e.g. Japanese) composition must not send half a word.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
}

// The code button: the selection goes in a fenced code block (Markdown, see
// markdown.js), or an empty block is inserted with the caret inside it.
function onCodeButton() {
  const input = $("message-input");
  const { selectionStart: start, selectionEnd: end, value } = input;
  const before = start > 0 && !value.slice(0, start).endsWith("\n") ? "\n" : "";
  const after = end < value.length && !value.slice(end).startsWith("\n") ? "\n" : "";
  const selected = value.slice(start, end).replace(/\n$/, "");
  const block = `${before}\`\`\`\n${selected}\n\`\`\`${after}`;
  input.focus();
  input.setRangeText(block, start, end, "end");
  // The caret at the end of the code, ready to type more of it.
  const caret = start + before.length + 4 + selected.length;
  input.setSelectionRange(caret, caret);
  input.dispatchEvent(new Event("input"));  // "typing…" for the others, as for keys
}

function onRename(event) {
  event.preventDefault();
  const nick = $("rename-input").value.trim();
  if (!nick) return;
  hideNotice();
  // The nickname changes when the server's "nick" event says so, not before:
  // it may refuse (taken, too long) with an error event instead.
  if (send({ type: "nick", nick })) {
    $("rename-input").value = "";
  } else {
    showNotice("Not connected: nothing was sent. Try again once connected.");
  }
}

start();
