// The host key: the secret of the host link (http://HOST:3000/#host=KEY) that
// makes this page the room's host.
//
// Owns where the key comes from (the address's fragment), where it is kept
// (this browser's localStorage, so the teacher opens the link once) and
// presenting it: after each welcome, over the socket (never in a URL). The
// key goes nowhere else: not into the page, the title or a log line, and it
// leaves the address bar at once (rooms.js replaces the address), so a
// projected screen never shows it.
//
// The fragment: parts joined by "&", in any order. A part "host=KEY" is the
// key; what is left is the room. "#host=KEY" alone keeps the room the page
// is in (general, for a page just opened); "#maths&host=KEY" also goes to #maths.

import { send } from "./socket.js";

const KEY_STORE = "chat.hostKey";  // where this browser keeps the key
const KEY_PART = "host=";

let presented = false;  // this connection presented the key, and the server has not refused it

// Take the host key out of a fragment ("#maths&host=KEY"), keep it, and return
// the fragment without it ("#maths") and whether it held one.
export function takeHostKey(hash) {
  const parts = hash.replace(/^#/, "").split("&");
  const keyParts = parts.filter((part) => part.startsWith(KEY_PART));
  if (keyParts.length === 0) return { hash, found: false };
  const key = keyText(keyParts.at(-1).slice(KEY_PART.length));
  if (key !== "") localStorage.setItem(KEY_STORE, key);
  const rest = parts.filter((part) => !part.startsWith(KEY_PART)).join("&");
  return { hash: rest === "" ? "" : "#" + rest, found: true };
}

// Keys are URL-safe (letters, digits, - and _), but a link may have been escaped on the way.
function keyText(text) {
  try {
    return decodeURIComponent(text).trim();
  } catch (error) {
    return text.trim();
  }
}

function storedKey() {
  return localStorage.getItem(KEY_STORE);
}

export function hasHostKey() {
  return storedKey() !== null;
}

// After each welcome (and when a key arrives in an open page): present the key, if
// this browser holds one. Until the server refuses it, this page counts as the key
// holder: no answer comes when it is right (only the `hosts` event, and none at
// all when the list of hosts does not change, as after a reconnect that took our
// nickname over).
export function presentKey() {
  const key = storedKey();
  presented = key !== null && send({ type: "host", key });
}

export function keyPresented() {
  return presented;
}

// A `forbidden` without a ref: the answer to our key (every other frame of ours
// that a host sends carries a ref). Forget the key; return whether it was that.
export function keyRefused() {
  if (!presented) return false;
  presented = false;
  localStorage.removeItem(KEY_STORE);
  return true;
}

// Fetch a host-only address (the export) with the key in a header, never in the URL.
export function fetchAsHost(url) {
  return fetch(url, { headers: { "X-Host-Key": storedKey() || "" }, cache: "no-store" });
}
