// What the composer is doing: writing a new message, replying to one
// (replies.js) or editing one of ours (edits.js). Owns that state and the line
// above the box that says it ("Replying to ada: …", "Editing — Esc to cancel"),
// with its Cancel button; Escape in the box cancels too. An edit borrows the
// box: what was being typed waits aside and comes back when the edit ends.

const $ = (id) => document.getElementById(id);

let mode = null;  // null, or {kind: "reply" | "edit", id, item}: the message it is about
let draft = "";   // what the box held before an edit began

export function startComposing() {
  $("composing-cancel").addEventListener("click", () => {
    stopComposing();
    $("message-input").focus();
  });
}

// Reply to (or edit) message `id`, shown by `item`; `parts` say so, as text and
// <bdi> nicknames. An edit puts `text` in the box.
export function beginComposing(kind, id, item, parts, text = null) {
  stopComposing();
  mode = { kind, id, item };
  item.classList.add(kind === "edit" ? "being-edited" : "being-answered");
  const input = $("message-input");
  if (kind === "edit") {
    draft = input.value;
    input.value = text;
  }
  $("composing-text").replaceChildren(...parts);
  $("composing-cancel").setAttribute("aria-label", kind === "edit" ? "Cancel editing" : "Cancel reply");
  $("composing").hidden = false;
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

// The message being replied to or edited: {kind, id}, or null for a new one.
export function composing() {
  return mode === null ? null : { kind: mode.kind, id: mode.id };
}

// Done (sent) or cancelled: back to a new message; an edit gives the box back
// what was typed before it.
export function stopComposing() {
  if (mode === null) return;
  mode.item.classList.remove("being-edited", "being-answered");
  if (mode.kind === "edit") $("message-input").value = draft;
  mode = null;
  draft = "";
  $("composing").hidden = true;
  $("composing-text").replaceChildren();
}

// Message `id` was deleted: a reply to it becomes a new message, an edit of it ends.
export function stopComposingAbout(id) {
  if (mode !== null && mode.id === id) stopComposing();
}

// Escape in the box cancels a reply or an edit; return whether it did.
export function composerEscape(event) {
  if (event.key !== "Escape" || mode === null) return false;
  event.preventDefault();
  event.stopPropagation();  // this Escape is the composer's, not the invite panel's
  stopComposing();
  return true;
}
