// Files into the composer: the attach button (and its hidden file input),
// files pasted into the composer, and files dropped anywhere on the chat
// (the messages show a hint while one is dragged over the page).
//
// Each file goes to the server over HTTP first (POST /upload, docs/protocol.md
// "Files"); once it answers 201, the file is posted in a message, with the
// composer's text *when the file was chosen* as its caption (what is typed
// during the upload stays in the box until Enter), through socket.js's outbox like any message
// (its ref, its ack, its refusals). The server judges every file: its size,
// its type, the quota, the rate. Its refusal is shown (and read out, the
// notice being an alert) in its own words. One file at a time, in order.

import { forgetTypingSent } from "./attention.js";
import { addPending } from "./messages.js";
import { hasJoined } from "./nickname.js";
import { currentRoom } from "./rooms.js";
import { pageSession, queue } from "./socket.js";
import { hideNotice, showNotice } from "./status.js";

const $ = (id) => document.getElementById(id);

let line = Promise.resolve();  // the uploads waiting their turn, one after another
let waiting = 0;               // files picked, pasted or dropped, not yet done with
let dragged = 0;               // dragenter minus dragleave: the page is being dragged over

// Listen to the attach button, the composer's paste and drops on the page.
export function startUploads() {
  $("attach-button").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", onPicked);
  $("message-input").addEventListener("paste", onPaste);
  document.addEventListener("dragenter", onDragEnter);
  document.addEventListener("dragover", onDragOver);
  document.addEventListener("dragleave", onDragLeave);
  document.addEventListener("drop", onDrop);
}

// ---- Where files come from ---------------------------------------------------------

function onPicked() {
  const input = $("file-input");
  sendFiles(input.files);
  input.value = "";  // picking the same file again is a change too
  $("message-input").focus();
}

// A screenshot or a copied file: uploaded instead of pasted as text.
function onPaste(event) {
  const files = event.clipboardData?.files;
  if (!files || files.length === 0) return;  // text: the textarea takes it as usual
  event.preventDefault();
  sendFiles(files);
}

function carriesFiles(event) {
  return Array.from(event.dataTransfer?.types || []).includes("Files");
}

// Every drop on the page is ours: a file dropped beside the composer must not
// make the browser leave the chat to show it.
function onDragEnter(event) {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragged += 1;
  showDropHint(true);
}

function onDragOver(event) {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = hasJoined() ? "copy" : "none";
}

function onDragLeave(event) {
  if (!carriesFiles(event)) return;
  dragged = Math.max(0, dragged - 1);
  if (dragged === 0) showDropHint(false);
}

function onDrop(event) {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragged = 0;
  showDropHint(false);
  if (hasJoined()) sendFiles(event.dataTransfer.files);
}

function showDropHint(on) {
  $("drop-hint").hidden = !(on && hasJoined());
  if (on) $("drop-hint").textContent = `Drop the file to send it to #${currentRoom()}`;
}

// ---- Uploading, then posting ---------------------------------------------------------

// The composer's text goes with the first file, as its caption; the box empties for
// the next message, and gets the caption back if that file is refused.
function sendFiles(fileList) {
  const input = $("message-input");
  let caption = input.value;
  input.value = "";
  for (const file of Array.from(fileList)) {
    const text = caption;
    caption = "";
    waiting += 1;
    line = line.then(() => upload(file, text)).catch((error) => {
      console.error("Upload failed:", error);  // a bug here must not stop the files after it
      refuse(file, "something went wrong in this page.", text);
    }).finally(() => {
      waiting -= 1;
      showProgress(null);
    });
  }
}

async function upload(file, caption) {
  const room = currentRoom();  // the server lets the file be posted in this room only
  showProgress(file.name);
  const headers = { "X-Session": pageSession() };
  if (file.name) headers["X-File-Name"] = encodeURIComponent(file.name);
  let response;
  try {
    response = await fetch(`/upload?room=${encodeURIComponent(room)}`, {
      method: "POST", headers, body: file,
    });
  } catch (error) {
    refuse(file, "it could not reach the server. Try again once connected.", caption);
    return;
  }
  const answer = await response.json().catch(() => null);
  if (response.status !== 201 || typeof answer?.file !== "string") {
    refuse(file, refusal(response, answer), caption);
    return;
  }
  if (currentRoom() !== room) {
    refuse(file, `it was uploaded for #${room}, and this is #${currentRoom()}.`, caption);
    return;
  }
  post(answer, caption);
}

// The server's words; and when to try again (429's Retry-After), unless they say it.
function refusal(response, answer) {
  const words = typeof answer?.message === "string" && answer.message
    ? answer.message : `the server answered ${response.status} ${response.statusText}.`;
  const after = Number.parseInt(response.headers.get("Retry-After"), 10);
  if (!Number.isFinite(after) || after <= 0 || /try again/i.test(words)) return words;
  return `${words} Try again in ${after} s.`;
}

// Nothing typed is lost: a refused file's caption goes back before what the box holds.
function refuse(file, why, caption) {
  showNotice(`${file.name || "The file"} was not sent: ${why}`);
  if (!caption) return;
  const input = $("message-input");
  input.value = input.value ? `${caption}\n${input.value}` : caption;
}

// Stored by the server: post it with its caption. Like a typed message it shows
// as pending until its ack.
function post(answer, caption) {
  hideNotice();
  addPending(queue(caption, { file: answer.file }), caption, answer);
  forgetTypingSent();
}

// "Uploading plan.png…", with how many more wait; nothing once all are done.
// The line is a status region, never hidden: one shown only when it changes
// would not always be read out.
function showProgress(name) {
  const progress = $("upload-status");
  if (name === null) {
    if (waiting === 0) progress.textContent = "";
    return;
  }
  const more = waiting > 1 ? ` (${waiting - 1} more waiting)` : "";
  progress.textContent = `Uploading ${name || "a file"}…${more}`;
}
