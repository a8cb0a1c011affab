// Replies (docs/protocol.md, "Editing, replying, reacting"). "Reply" in a
// message's menu says "Replying to ada: …" over the composer (composing.js),
// and the message goes with `"reply": id`. A message that answers another
// shows the server's short quote of it above its text, as text only, never
// HTML. The quote is a button: it scrolls to the original and lights it up
// briefly, or says the original is no longer loaded. It follows the
// original's edits, and says "deleted message" once that is deleted.

import { beginComposing } from "./composing.js";
import { messageItem, messageSource } from "./messages.js";
import { showNotice } from "./status.js";
import { nickName, textElement } from "./text.js";

const QUOTE_LENGTH = 140;       // characters of the original a quote shows, as the server cuts it
const SHOWN_IN_COMPOSER = 60;   // ...and the line over the composer, shorter still
const HIGHLIGHT_MS = 2000;      // how long the original stays lit up
const NOT_LOADED = "That message is no longer loaded.";

// A message's text as a quote: on one line, cut short with "…" (as the server does).
export function quoteText(text, length = QUOTE_LENGTH) {
  const line = text.split(/\r\n|\r|\n/).join(" ");
  return line.length > length ? line.slice(0, length) + "…" : line;
}

// What a quote shows of the Markdown: a code block's fences ("```python") say nothing there.
function shown(quote) {
  return quote.replace(/(```|~~~)[\w+-]*/g, " ").replace(/\s{2,}/g, " ").trim();
}

// "Reply" in a message's menu.
export function startReply(item) {
  const nick = item.querySelector(".nick").textContent;
  const quote = shown(quoteText(messageSource(item), SHOWN_IN_COMPOSER));
  beginComposing("reply", Number(item.dataset.id), item,
    ["Replying to ", nickName(nick), ": ", quote]);
}

// A new message that answers another: its quote goes above its text. In a
// welcome's history the quote of a deleted message comes with an empty text.
export function showReply(item, reply) {
  if (reply === undefined || reply === null) return;
  const quote = document.createElement("div");
  quote.className = "reply";
  quote.dataset.replyTo = reply.id;
  quote.append(reply.text ? quoteButton(reply) : deletedQuote());
  item.querySelector(":scope > .text").before(quote);
}

// Our reply, while it waits for the server: the quote as the page has it.
export function showPendingReply(pending, id) {
  const original = messageItem(id);
  if (original === null) return;
  const nick = original.querySelector(":scope > .nick").textContent;
  showReply(pending, { id, nick, text: quoteText(messageSource(original)) });
}

function quoteButton(reply) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reply-button";
  button.title = "Show the message this answers";
  button.append(
    textElement("span", "visually-hidden", "In reply to "),
    nickName(reply.nick, "reply-nick"), ": ",
    textElement("span", "reply-text", shown(reply.text)),
  );
  button.addEventListener("click", () => goToOriginal(reply.id));
  return button;
}

function deletedQuote() {
  return textElement("span", "reply-deleted", "deleted message");
}

// Scroll to the message answered and light it up; the focus goes with it, so
// a keyboard user can come back with Tab. Not on screen: say so.
function goToOriginal(id) {
  const original = messageItem(id);
  if (original === null) {
    showNotice(NOT_LOADED);
    return;
  }
  original.tabIndex = -1;
  original.scrollIntoView({ block: "center" });
  original.focus({ preventScroll: true });
  original.classList.remove("highlight");
  void original.offsetWidth;  // restart the animation if it was still lit
  original.classList.add("highlight");
  setTimeout(() => original.classList.remove("highlight"), HIGHLIGHT_MS);
}

function quotesOf(id) {
  return document.querySelectorAll(`#messages .reply[data-reply-to="${Number(id)}"]`);
}

// Message `id` was edited: the quotes of it on screen show its new text.
export function quoteEdited(id, text) {
  quotesOf(id).forEach((quote) => {
    const line = quote.querySelector(".reply-text");
    if (line !== null) line.textContent = shown(quoteText(text));
  });
}

// Message `id` was deleted: its quotes say so.
export function quoteDeleted(id) {
  quotesOf(id).forEach((quote) => {
    const hadFocus = quote.contains(document.activeElement);
    quote.replaceChildren(deletedQuote());
    if (hadFocus) quote.closest(".message").querySelector("button")?.focus();
  });
}
