"""Settings: every knob of the server, with the defaults a classroom needs.

Only `run.py` builds Settings from the command line; everything under `chat/`
receives them, so tests can build `Settings(...)` with whatever they need.
"""

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What the server listens on and the limits it enforces."""

    host: str = "0.0.0.0"
    port: int = 3000
    max_text: int = 2000
    history: int = 50
    debug: bool = False
    db: str | Path = ROOT / "chat.db"  # ":memory:" keeps nothing
    resume_limit: int = 1000  # most entries of the log a `since` welcome carries
    welcome_bytes: int = 256 * 1024  # most history JSON one welcome carries (< max_unsent)
    rate: float = 5.0  # messages a second per connection; 0 = no limit
    burst: int = 10
    max_per_ip: int = 20  # open connections per client address; 0 = no cap
    max_connections: int | None = None  # open in all; None: from the file limit; 0 = no cap
    header_timeout: float = 10.0  # seconds for a request's headers (and as long for its body)
    idle_timeout: float = 5.0  # seconds a kept-alive connection may wait for its next request
    max_unsent: int = 1024 * 1024  # bytes queued for a client before it is dropped
    max_message_size: int = 64 * 1024
    ping_interval: float = 20.0
    ping_timeout: float | None = None  # None: the same as ping_interval
    allow_origins: tuple[str, ...] = ()  # other sites' pages allowed to connect
    invite_urls: tuple[str, ...] = ()  # the addresses the Invite panel offers, LAN first
    redis: str | None = None  # a Redis URL makes this process one node of a cluster
    processes: int = 1  # worker processes sharing the port (more than 1 needs redis)
    history_cap: int = 10_000  # log entries kept per room (SQLite or Redis), oldest out first
    presence_timeout: float = 15.0  # seconds before a silent node's people are let go
    host_key: str | None = None  # None: the one kept (in the database or Redis), else a new one
    new_host_key: bool = False  # replace the kept key with a new one
    max_upload: int = 10 * 1024 * 1024  # bytes in one uploaded file; 0 turns uploads off
    uploads_per_minute: int = 10  # uploads one address may make; 0 = no limit
    upload_quota: int = 500 * 1024 * 1024  # bytes all kept files may take
    upload_dir: str | Path | None = None  # None: uploads/ beside the db (a cluster needs one)
