// Who we are: the nickname the person chose, remembered in this browser for
// next time, and the one the server gave us. The server's is authoritative:
// it says "ada-2" while an old connection of ours still holds "ada".

const NICK_KEY = "chat.nick";  // where the chosen nickname is remembered

let wanted = "";  // the nickname we ask for when (re)connecting; "" until Join
let given = "";   // the nickname the server gave us (welcome.nick), "" until then

// The nickname chosen last time in this browser, to fill in the join form.
export function rememberedNick() {
  return localStorage.getItem(NICK_KEY) || "";
}

// We remember the nickname the person chose, not a suffixed one ("ada-2")
// the server handed out while an old connection of theirs still held "ada".
export function chooseNick(nick) {
  wanted = nick;
  localStorage.setItem(NICK_KEY, nick);
}

export function wantedNick() {
  return wanted;
}

export function hasJoined() {
  return wanted !== "";
}

export function myNick() {
  return given;
}

export function setMyNick(nick) {
  given = nick;
}
