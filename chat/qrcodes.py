"""QRCodes: the Invite panel's QR codes, drawn once per address and room, the recent few kept.

segno draws in pure Python on the event loop (tens of milliseconds a code), so a
loop of requests would stall the chat for everyone: each URL is drawn once, and
the cache holds the most recently asked ones.
"""

import io
from collections import OrderedDict

import segno

KEPT = 64  # codes cached: a few addresses times the rooms in use


class QRCodes:
    """SVG QR codes by URL, least recently used out first."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._drawn: OrderedDict[str, bytes] = OrderedDict()

    def cached(self, url: str) -> bytes | None:
        """Return the code of `url` if it was drawn recently, else None."""
        svg = self._drawn.get(url)
        if svg is not None:
            self._drawn.move_to_end(url)
        return svg

    def draw(self, url: str) -> bytes:
        """Draw the code of `url` (an SVG) and keep it."""
        out = io.BytesIO()
        segno.make(url, error="m").save(out, kind="svg", scale=8, border=4, title=url)
        self._drawn[url] = out.getvalue()
        while len(self._drawn) > self.kept:
            self._drawn.popitem(last=False)
        return self._drawn[url]
