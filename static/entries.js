// What each kind of entry of the room's log does to the page: one
// `switch (entry.type)` (docs/protocol.md, "The room's log" and "Hosts").
// Entries come in a welcome's history and as they happen; each is applied
// once (ids count every kind), and each shows its outcome to everyone: a
// message added or removed, the topic and the pin at the top of the room, a
// line in the list when someone is muted, removed or made host, or when the
// room is locked, slowed or cleared. A message's reply quote, mention and
// reactions, and the edits and reactions that follow it, are each their own
// module's (replies.js, mentions.js, reactions.js, edits.js).

import { stopComposingAbout } from "./composing.js";
import { applyEdit } from "./edits.js";
import { messageActions } from "./hosting.js";
import { markMention } from "./mentions.js";
import { applyReaction } from "./reactions.js";
import { quoteDeleted, showReply } from "./replies.js";
import { addMessage, addSystemLine, emptyList, isNewEntry, removeMessage } from "./messages.js";
import { mute, unmute } from "./people.js";
import { seconds, setLocked, setPin, setSlow, setTopic, unpinIfDeleted } from "./standing.js";
import { clockTime, nickName } from "./text.js";

// Apply one entry if it is new here; return whether it was.
export function applyEntry(entry) {
  if (!isNewEntry(entry)) return false;
  const by = nickName(entry.by || "a host");
  switch (entry.type) {
    case "message":
      showMessage(entry);
      break;
    case "edit":
      applyEdit(entry);
      break;
    case "react":
      applyReaction(entry);
      break;
    case "delete":
      removeMessage(entry.target);  // a page that was away gets the delete from `since`
      unpinIfDeleted(entry.target);
      quoteDeleted(entry.target);
      stopComposingAbout(entry.target);
      break;
    case "mute":
      mute(entry.nick, entry.until);
      addSystemLine(by, " muted ", nickName(entry.nick), ` until ${clockTime(entry.until)}`);
      break;
    case "unmute":
      unmute(entry.nick);
      addSystemLine(by, " unmuted ", nickName(entry.nick));
      break;
    case "kick":
      addSystemLine(by, " removed ", nickName(entry.nick),
        ` from the room until ${clockTime(entry.until)}`);
      break;
    case "ban":
      addSystemLine(by, " banned ", nickName(entry.nick), " from the chat",
        entry.until ? ` until ${clockTime(entry.until)}` : "");
      break;
    case "unban":
      addSystemLine(by, " lifted the ban on ", nickName(entry.nick));
      break;
    case "lock":
    case "unlock":
      setLocked(entry.type === "lock");
      addSystemLine(by, entry.type === "lock"
        ? " locked the room: only hosts may post" : " unlocked the room");
      break;
    case "slow":
      setSlow(entry.seconds);
      addSystemLine(by, entry.seconds > 0
        ? ` turned on slow mode: one message every ${seconds(entry.seconds)} per person`
        : " turned off slow mode");
      break;
    case "clear":
      emptyList();
      addSystemLine(by, " cleared the room");
      break;
    case "pin":
      setPin(entry.message);
      addSystemLine(by, " pinned a message by ", nickName(entry.message.nick));
      break;
    case "unpin":
      setPin(null);
      addSystemLine(by, " unpinned the message");
      break;
    case "topic":
      setTopic(entry.topic);
      addSystemLine(by, entry.topic ? " set the topic: " : " cleared the topic", entry.topic);
      break;
    case "op":
      addSystemLine(by, " made ", nickName(entry.nick), " a host");
      break;
    case "deop":
      addSystemLine(by, " took host away from ", nickName(entry.nick));
      break;
    default:
      console.log("Unknown entry:", entry);  // a newer server's kind: skipped, not asked again
  }
  return true;
}

function showMessage(message) {
  addMessage(message, (item) => {
    showReply(item, message.reply);
    markMention(item, message.text);
    messageActions(item);
  });
}
