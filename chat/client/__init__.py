"""The terminal client: `python -m chat.client ws://HOST:3000/ws --nick ada`.

It prints the room's events as lines and sends each typed line as a message
(docs/protocol.md). Every message carries a `ref` and waits in an outbox until
the server acknowledges it; when the connection drops, the client reconnects
with back-off, resumes with `since` and sends the outbox again, so each line
is delivered exactly once. One concern per module:

    format.py        events as printed rows: escapes, isolated nicknames, wrapping
    blocks.py        Markdown's fenced code blocks in a message's text
    rich.py          replies' quotes, files, edits and reactions as rows
    entries.py       the room's log as rows: each entry kind, the welcome's standing
    held.py          the messages shown, and who reacted with what (for /react)
    reactions.py     the six reactions and the names typed for them
    commands.py      the slash commands: parsed into frames, and /help
    outbox.py        messages typed and not yet acknowledged, refs, holds, back-off
    delivery.py      the outbox on the wire: sent, held, sent again, answered for
    host.py          the host key: presented after each welcome, refused once aloud
    conversation.py  frames in, rows and frames out
    roster.py        who is online: the nicknames the prompt completes
    connection.py    TerminalChat: the socket, reconnecting with `since`, leaving
    export.py        /export: the room's transcript over HTTP into a file
    terminal.py      what is typed (prompt_toolkit at a terminal, lines from pipes)
    __main__.py      the command line and CHAT_HOST_KEY

format, blocks, rich, entries, held, reactions, commands, outbox, delivery,
host, roster and conversation do no I/O (plain unit tests); connection.py and
export.py alone touch the network (and export.py a file), terminal.py and
__main__.py alone stdin, stdout, the environment and signals.
"""
