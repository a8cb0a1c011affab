// Noticing each other: "ada is typing…", the unread count in the tab title,
// and an optional beep while the tab is hidden.
//
// Owns who is typing here (and when we last said that we are), the unread
// count and the audio context. Our own `typing` goes out through socket.js's send().

import { myNick } from "./nickname.js";
import { holdingBack, send } from "./socket.js";
import { nickName } from "./text.js";

const TYPING_SEND_EVERY_MS = 3000;  // the protocol asks for at most one `typing` per 3 s
const TYPING_SHOWN_MS = 5000;       // ...and to show it until a message or 5 s have passed
const SOUND_KEY = "chat.sound";     // where the beep checkbox is remembered
const TITLE = "Chat";

const $ = (id) => document.getElementById(id);

const typing = new Map();  // who is typing here -> the timer that stops showing it
let typingSentAt = 0;      // when we last told the room we are typing
let unread = 0;            // messages that arrived while the tab was hidden
let audio = null;          // the AudioContext for the beep, made once the person allows sound

// Listen to the tab being shown again and to the sound checkbox.
export function startAttention() {
  document.addEventListener("visibilitychange", onVisibilityChange);
  startSound();
}

// ---- Typing: ours, sent to the room ---------------------------------------

// Called on every change in the composer, with what it holds. One frame every
// 3 s at most is enough to keep the others' "typing…" alive (they show it for
// 5 s), and it costs little of our rate limit.
export function tellTyping(text) {
  if (!text.trim()) return;
  if (holdingBack()) return;  // rate limited: our messages need the room more
  if (Date.now() - typingSentAt < TYPING_SEND_EVERY_MS) return;
  if (send({ type: "typing" })) typingSentAt = Date.now();
}

// A new connection, or our message just went: the room no longer shows us
// typing, so the next key tells it again.
export function forgetTypingSent() {
  typingSentAt = 0;
}

// ---- Typing: the others', shown under the messages ------------------------

// `nick` is typing: show it for 5 s, or until their message arrives.
export function startedTyping(nick) {
  if (nick === myNick()) return;  // the server does not echo it; never show ourselves anyway
  clearTimeout(typing.get(nick));
  typing.set(nick, setTimeout(() => stoppedTyping(nick), TYPING_SHOWN_MS));
  renderTyping();
}

// Their message arrived, they left, or 5 s passed.
export function stoppedTyping(nick) {
  if (!typing.has(nick)) return;
  clearTimeout(typing.get(nick));
  typing.delete(nick);
  renderTyping();
}

// A new room, or a new connection: nobody we were showing is typing here.
export function forgetTyping() {
  typing.forEach((timer) => clearTimeout(timer));
  typing.clear();
  renderTyping();
}

function renderTyping() {
  $("typing").replaceChildren(...typingSentence([...typing.keys()]));
}

// "", "ada is typing…", "ada and bob are typing…", "ada, bob and eve are typing…",
// as text and one <bdi> per name (text.js).
function typingSentence(names) {
  if (names.length === 0) return [];
  if (names.length === 1) return [nickName(names[0]), " is typing…"];
  if (names.length > 3) return ["Several people are typing…"];
  const parts = names.slice(0, -1).flatMap((name, index) => (
    index === 0 ? [nickName(name)] : [", ", nickName(name)]));
  return [...parts, " and ", nickName(names.at(-1)), " are typing…"];
}

// ---- Unread count in the tab title ---------------------------------------

// Another person's message arrived: count it if nobody is looking at this tab.
export function noticeUnread() {
  if (!document.hidden) return;
  unread += 1;
  document.title = `(${unread}) ${TITLE}`;
  if ($("sound-toggle").checked) beep();
}

function onVisibilityChange() {
  if (document.hidden) return;
  unread = 0;
  document.title = TITLE;
}

// ---- The optional beep -----------------------------------------------------

// Off unless the person turned it on here before.
function startSound() {
  $("sound-toggle").checked = localStorage.getItem(SOUND_KEY) === "on";
  $("sound-toggle").addEventListener("change", onSoundToggle);
}

function onSoundToggle() {
  localStorage.setItem(SOUND_KEY, $("sound-toggle").checked ? "on" : "off");
  if ($("sound-toggle").checked) unlockAudio();
}

// Browsers let a page make sound only after the person has clicked or typed
// in it, so the audio context is made (or woken) during such a click: the
// checkbox itself, or the Join button when the box was already ticked.
export function unlockAudio() {
  if (!$("sound-toggle").checked) return;
  if (audio === null) audio = new AudioContext();
  audio.resume();
}

// A short, soft 880 Hz "ping" made on the spot: no sound file, no download.
function beep() {
  if (audio === null) return;
  const now = audio.currentTime;
  const tone = audio.createOscillator();
  const volume = audio.createGain();
  tone.frequency.value = 880;
  // Fade in and out quickly: a sudden start or stop of a wave clicks.
  volume.gain.setValueAtTime(0.0001, now);
  volume.gain.exponentialRampToValueAtTime(0.2, now + 0.01);
  volume.gain.exponentialRampToValueAtTime(0.0001, now + 0.15);
  tone.connect(volume).connect(audio.destination);
  tone.start(now);
  tone.stop(now + 0.16);
}
