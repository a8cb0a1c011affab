"""The vendored front-end libraries are all there, at the versions tools/vendor.py pins."""

import subprocess
import sys

from servers import ROOT


def test_static_vendor_matches_the_pins_offline():
    """`tools/vendor.py --check` finds every pinned library's files and licence in static/vendor."""
    result = subprocess.run([sys.executable, "tools/vendor.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout
    assert "matches the pins" in result.stdout
