// The "@" list of the composer: typing "@" offers the nicknames online
// (people.js), filtered by what follows it. The ARIA combobox pattern: the box
// is the combobox (aria-expanded, aria-activedescendant), the list a listbox
// of options. Up and Down move, Enter or Tab put "@nick " in the box (Enter
// after a whole name sends, as always), Escape closes the list; a click on a
// name does the same as Enter.

import { myNick } from "./nickname.js";
import { onlineNicks } from "./people.js";
import { nickName } from "./text.js";

const SHOWN = 8;  // at most this many names at once
// "@" at the start or after a space or punctuation, then what is typed of a name, at the caret.
const TYPED = /(?<![\p{L}\p{N}\p{M}_.@-])@([\p{L}\p{N}\p{M}_-]*)$/u;

const $ = (id) => document.getElementById(id);

let choices = [];   // the names in the list now
let active = 0;     // which of them Enter would take

export function startAutocomplete() {
  const input = $("message-input");
  input.addEventListener("input", update);
  input.addEventListener("click", update);  // the caret moved elsewhere
  input.addEventListener("blur", close);
  // Keep the focus in the box while a name is clicked.
  $("mention-list").addEventListener("pointerdown", (event) => event.preventDefault());
}

// What is typed of a name at the caret: {start, prefix}, or null when no "@" is there.
function typedName() {
  const input = $("message-input");
  if (input.selectionStart !== input.selectionEnd) return null;
  const match = TYPED.exec(input.value.slice(0, input.selectionStart));
  if (match === null) return null;
  return { start: match.index, prefix: match[1] };
}

function update() {
  const typed = typedName();
  if (typed === null) {
    close();
    return;
  }
  const prefix = typed.prefix.toLowerCase();
  choices = onlineNicks()
    .filter((nick) => nick !== myNick() && nick.toLowerCase().startsWith(prefix))
    .slice(0, SHOWN);
  active = 0;
  if (choices.length === 0) close(); else render();
}

function render() {
  const list = $("mention-list");
  list.replaceChildren(...choices.map((nick, index) => {
    const option = document.createElement("li");
    option.id = `mention-option-${index}`;
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", String(index === active));
    option.append(nickName(nick));
    option.addEventListener("click", () => choose(index));
    return option;
  }));
  list.hidden = false;
  const input = $("message-input");
  input.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-activedescendant", `mention-option-${active}`);
}

function close() {
  choices = [];
  $("mention-list").hidden = true;
  $("mention-list").replaceChildren();
  const input = $("message-input");
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

// Put "@nick " in place of what was typed of it.
function choose(index) {
  const typed = typedName();
  const nick = choices[index];
  close();
  if (typed === null || nick === undefined) return;
  const input = $("message-input");
  input.setRangeText(`@${nick} `, typed.start, input.selectionStart, "end");
  input.dispatchEvent(new Event("input"));  // "typing…" for the others; the list stays closed
}

// A key in the composer while the list is open; return whether it was the list's.
export function mentionKey(event) {
  if (choices.length === 0 || event.isComposing) return false;
  const moves = { ArrowDown: 1, ArrowUp: -1 };
  if (event.key in moves) {
    active = (active + moves[event.key] + choices.length) % choices.length;
    render();
  } else if (event.key === "Enter" && typedName()?.prefix.toLowerCase() === choices[active].toLowerCase()) {
    close();  // the whole name is typed already: Enter sends the message
    return false;
  } else if (event.key === "Enter" || event.key === "Tab") {
    choose(active);
  } else if (event.key === "Escape") {
    event.stopPropagation();  // closes the list, not a reply or the invite panel
    close();
  } else {
    return false;
  }
  event.preventDefault();
  return true;
}
