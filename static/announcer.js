// The live region: each new message from someone else read out by a screen
// reader ("ada: the notes are up"), as plain text and cut short. Only what
// arrives as it happens: events.js calls announceMessage() for a live message,
// never for a welcome's history or what a reconnect replays, and never for our
// own (we know what we wrote). The region is in index.html from the start: a
// live region added later is not always listened to.

import { fileSummary } from "./attachments.js";

const MAX_CHARS = 200;  // a long message is cut: the list holds all of it
const KEPT = 5;         // lines kept in the region; older ones were read already

const region = document.getElementById("announcer");

// Read out a message of someone else's that just arrived.
export function announceMessage(message) {
  const line = document.createElement("p");
  line.textContent = spoken(message);  // text, never HTML: it is someone's words
  region.append(line);
  while (region.childElementCount > KEPT) region.firstElementChild.remove();
}

// "ada: see page 3 (image: plan.png)": the Markdown as typed, on one line.
function spoken({ nick, text, file }) {
  const words = typeof text === "string" ? text.replace(/\s+/g, " ").trim() : "";
  const short = words.length > MAX_CHARS ? `${words.slice(0, MAX_CHARS).trimEnd()}…` : words;
  const attached = fileSummary(file);
  return `${nick}: ${[short, attached && `(${attached})`].filter(Boolean).join(" ")}`;
}
