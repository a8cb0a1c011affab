"""The host's key: the secret in the host link that makes whoever presents it the room's host.

Made once and kept (in the database, or in Redis for a cluster) so that a
restart keeps the teacher's bookmark working; run.py prints the links in the
terminal only. A key is compared in constant time, and never logged. No I/O here.
"""

import hmac
import re
import secrets

KEY_BYTES = 24  # 192 random bits; a key given with --host-key needs at least 128
GIVEN = re.compile(r"[A-Za-z0-9_-]{22,128}")  # URL-safe, so it survives a fragment unescaped


def new_key() -> str:
    """Return a new random key, URL-safe."""
    return secrets.token_urlsafe(KEY_BYTES)


def check_given(key: str) -> str:
    """Return a key given on the command line, or raise ValueError saying what a key must be."""
    if not GIVEN.fullmatch(key):
        raise ValueError("a host key is 22 to 128 letters, digits, - or _ (at least 128 bits)")
    return key


def settle(stored: str | None, given: str | None, renew: bool) -> str:
    """Return the key to use: the one given, else a new one if asked or none is stored."""
    if given is not None:
        return given
    if renew or stored is None:
        return new_key()
    return stored


def matches(candidate: object, key: str | None) -> bool:
    """Tell whether `candidate` is the key, taking as long whatever it is (a string or not)."""
    if key is None or not isinstance(candidate, str):
        return False
    return hmac.compare_digest(candidate.encode(), key.encode())


def host_links(urls: list[str], key: str) -> str:
    """Return what run.py prints for the host: one link per address, and a warning."""
    lines = ["", "Your host link (you run the room: delete, mute, kick, lock, export).",
             "Keep it private: anyone with it can run the room. Never project it."]
    lines += [f"  {url}/#host={key}" for url in urls]
    return "\n".join(lines)
