// Turning what people typed into page elements, safely.
//
// The server sends data, never HTML (docs/protocol.md). Everything another
// person typed (messages, nicknames, room names) goes into the page through
// textContent or as a text node, so "<img onerror=...>" stays text and runs
// nothing. Never use innerHTML here: links too are built element by element.
// Every other module builds what people typed with the functions exported here.

// http:// or https:// and everything up to the next space. Only these two
// schemes become links: "javascript:alert(1)", "data:..." or "file:..." could
// run code or open local files when clicked, so they stay plain text.
const LINK_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;

// A text element of this tag and class: the building block of every line.
export function textElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;  // text, never HTML: see the note at the top
  return element;
}

// Every nickname shown goes in a <bdi> (its direction isolated, found from its
// own letters): an Arabic or Hebrew name reads right to left without moving the
// words around it, so "علي joined" and "ada: 12 apples" keep their order.
export function nickName(nick, className = "") {
  return textElement("bdi", className, nick);
}

// A sentence made of text and elements (nicknames), as nodes: never parsed as HTML.
export function sentence(tag, className, ...parts) {
  const element = document.createElement(tag);
  element.className = className;
  element.append(...parts);  // strings become text nodes
  return element;
}

// The body of a message: its text, with web addresses as links. dir="auto"
// lets an Arabic or Hebrew message read right to left among English ones.
export function messageText(text) {
  const element = document.createElement("div");
  element.className = "text";
  element.dir = "auto";
  element.append(...withLinks(text));
  return element;
}

// Split text into text nodes and <a> elements, one per web address.
function withLinks(text) {
  const parts = [];
  let done = 0;  // how much of `text` is already in `parts`
  for (const match of text.matchAll(LINK_PATTERN)) {
    const url = trimPunctuation(match[0]);
    if (!isWebAddress(url)) continue;
    parts.push(document.createTextNode(text.slice(done, match.index)), linkElement(url));
    done = match.index + url.length;
  }
  parts.push(document.createTextNode(text.slice(done)));
  return parts;
}

// "See https://example.org." ends the sentence, not the address: drop trailing
// punctuation, and a closing bracket unless the address opened it
// (https://en.wikipedia.org/wiki/Tornado_(web_server) keeps its ")").
function trimPunctuation(url) {
  while (url.length > 0) {
    const last = url.at(-1);
    const opener = { ")": "(", "]": "[" }[last];
    if (opener && count(url, opener) >= count(url, last)) break;
    if (!opener && !".,;:!?'*".includes(last)) break;
    url = url.slice(0, -1);
  }
  return url;
}

function count(text, character) {
  return text.split(character).length - 1;
}

// Checked again with the browser's own URL parser: "http://" alone is no address.
function isWebAddress(text) {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch (error) {
    return false;
  }
}

// A link that opens in a new tab. noopener: the opened page cannot reach back
// and navigate ours (window.opener); noreferrer: it is not told our address.
function linkElement(url) {
  const link = document.createElement("a");
  link.href = url;
  link.textContent = url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

// A message's time as the reader's clock shows it, with the full date on hover.
export function timeElement(ts) {
  const when = new Date(ts);
  const element = textElement(
    "time", "time", when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
  );
  element.dateTime = when.toISOString();
  element.title = when.toLocaleString();
  return element;
}

// When something ends (a mute, a ban), as the reader's clock says it: "14:05",
// with the date too when it is not today.
export function clockTime(ms) {
  const when = new Date(ms);
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return when.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
}
