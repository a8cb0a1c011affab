// The room's standing, shown at the top of the room to everyone: its topic,
// its pinned message, and its rules (locked: only hosts may post; slow mode).
//
// Owns those four fields: the welcome says what they are, and the log's
// entries (topic, pin, unpin, lock, unlock, slow, a delete of the pinned
// message) change them. main.js gives the controls a host sees beside the
// pinned message (hosting.js), and what to call when a field changes.

import { attachment } from "./attachments.js";
import { markdownText } from "./markdown.js";
import { nickName, textElement } from "./text.js";

const $ = (id) => document.getElementById(id);

let topic = "";
let pin = null;      // the pinned message, or null
let locked = false;
let slow = 0;        // seconds between two messages of one person; 0: off
let page = { pinControls: () => null, changed: () => {} };

export function startStanding(callbacks) {
  page = callbacks;
}

// The welcome's fields (after its history: the welcome has the last word).
export function setStanding(welcome) {
  topic = welcome.topic || "";
  pin = welcome.pin || null;
  locked = welcome.locked === true;
  slow = welcome.slow || 0;
  render();
}

// Another room: nothing of this one's holds there until its welcome.
export function forgetStanding() {
  setStanding({});
}

export function setTopic(text) {
  topic = text;
  render();
}

export function setPin(message) {
  pin = message;
  render();
}

// A deleted message is no longer pinned (the server unpins it without an entry of its own).
export function unpinIfDeleted(id) {
  if (pin !== null && pin.id === id) setPin(null);
}

export function setLocked(on) {
  locked = on;
  render();
}

export function setSlow(seconds) {
  slow = seconds;
  render();
}

export function currentTopic() {
  return topic;
}

export function pinnedId() {
  return pin === null ? null : pin.id;
}

export function isLocked() {
  return locked;
}

export function slowSeconds() {
  return slow;
}

// ---- Showing it --------------------------------------------------------------

// Drawn again when the pin's controls change too (this page became a host, say).
export function render() {
  const topicLine = $("topic");
  topicLine.hidden = topic === "";
  const words = textElement("span", "topic-text", topic);
  words.dir = "auto";
  topicLine.replaceChildren(textElement("span", "label", "Topic:"), " ", words);

  const pinned = $("pinned");
  pinned.hidden = pin === null;
  if (pin === null) {
    pinned.replaceChildren();
  } else {
    const controls = page.pinControls();
    // Rendered as in the list (Markdown, code, maths, its file), in a box that scrolls.
    const body = [markdownText(pin.text), attachment(pin.file)].filter((part) => part !== null);
    pinned.replaceChildren(
      textElement("span", "label", "Pinned:"), " ", nickName(pin.nick, "nick"), ": ",
      ...body, ...(controls === null ? [] : [controls]),
    );
  }

  const rules = [];
  if (locked) rules.push("The room is locked: only hosts may post.");
  if (slow > 0) rules.push(`Slow mode: one message every ${seconds(slow)} per person.`);
  $("rules").hidden = rules.length === 0;
  $("rules").textContent = rules.join(" ");
  page.changed();
}

// 10 -> "10 s", 60 -> "1 min", 90 -> "90 s", 3600 -> "60 min".
export function seconds(count) {
  return count % 60 === 0 ? `${count / 60} min` : `${count} s`;
}
