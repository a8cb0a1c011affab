"""Settings: every knob of the server, with the defaults a classroom needs.

Only `run.py` builds Settings from the command line; everything under `chat/`
receives them, so tests can build `Settings(...)` with whatever they need.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What the server listens on and the limits it enforces."""

    host: str = "0.0.0.0"
    port: int = 3000
    max_text: int = 2000
    history: int = 50
    debug: bool = False
    max_message_size: int = 64 * 1024
    ping_interval: float = 20.0
