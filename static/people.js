// Who is online in the room on screen, in the order they arrived, and the
// list that shows them (our own name marked "me").

import { myNick } from "./nickname.js";
import { nickName } from "./text.js";

const list = document.getElementById("online");
const count = document.getElementById("online-count");

let online = [];  // nicknames, from the welcome, then each join, leave and rename

export function setPeople(nicks) {
  online = [...nicks];
  render();
}

export function addPerson(nick) {
  // Our own join follows our welcome, which already listed us.
  if (!online.includes(nick)) online.push(nick);
  render();
}

export function removePerson(nick) {
  online = online.filter((name) => name !== nick);
  render();
}

export function renamePerson(old, nick) {
  online = online.map((name) => (name === old ? nick : name));
  render();
}

function render() {
  const items = online.map((nick) => {
    const item = document.createElement("li");
    item.className = "person";
    item.append(nickName(nick));  // isolated: an Arabic name keeps the list left-aligned
    if (nick === myNick()) item.classList.add("me");
    return item;
  });
  list.replaceChildren(...items);
  count.textContent = online.length;
}
