"""The six reactions a message may get, and the names a person may type for them.

The server takes only these six (docs/protocol.md, "Editing, replying,
reacting": anything else is `bad_reaction`), so /react checks here first and a
typo is explained before anything is sent. No I/O.
"""

REACTIONS = ("👍", "❤️", "😂", "🎉", "🤔", "👀")
ALIASES = {
    "👍": ("+1", "thumbsup", "thumbs_up", "like", "yes"),
    "❤️": ("heart", "love", "<3", "❤"),  # the bare heart, without its emoji variation selector
    "😂": ("joy", "lol", "laugh"),
    "🎉": ("tada", "party", "hooray"),
    "🤔": ("thinking", "hmm"),
    "👀": ("eyes", "look"),
}
NAMES = {alias: emoji for emoji, aliases in ALIASES.items() for alias in (emoji, *aliases)}


def emoji(typed: str) -> str | None:
    """Return the reaction a typed word names (`👍`, `+1`, `:heart:`), or None for none."""
    word = typed.strip()
    if len(word) > 2 and word.startswith(":") and word.endswith(":"):  # as Slack and GitHub type
        word = word[1:-1]
    return NAMES.get(word.lower())


def choices() -> str:
    """Return the reactions and their first names, for an error or /help: `👍 (+1), ...`."""
    return ", ".join(f"{emoji} ({ALIASES[emoji][0]})" for emoji in REACTIONS)
