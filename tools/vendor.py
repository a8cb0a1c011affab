"""Refresh the page's front-end libraries in static/vendor/ from the npm registry.

    python tools/vendor.py           # fetch the versions pinned below, verify, write
    python tools/vendor.py --check   # verify what static/vendor/ holds, offline

Each library is pinned to an exact version; its tarball is checked against
the registry's sha512 integrity before anything is extracted, and only the
files named below are written, with the library's licence beside them.
static/vendor/VERSIONS.md lists what is there. Nothing is fetched at run time:
the server serves these files like the rest of static/. To upgrade, change a
version here, run the script, run the browser tests, commit the result.
"""

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Library:
    """One npm package: its exact version, the files the page uses, and where they go."""

    package: str
    version: str
    folder: str  # under static/vendor/
    files: tuple[str, ...]  # paths inside the tarball's package/ folder; a trailing / is a folder
    licence: str  # the licence file inside package/


LIBRARIES = (
    Library("marked", "18.2.1", "marked", ("lib/marked.esm.js",), "LICENSE"),
    Library("dompurify", "3.5.0", "dompurify", ("dist/purify.es.mjs",), "LICENSE"),
    Library("@highlightjs/cdn-assets", "11.12.0", "highlight",
            ("es/highlight.min.js", "styles/github.min.css", "styles/github-dark.min.css"),
            "LICENSE"),
    Library("katex", "0.19.1", "katex", ("dist/katex.mjs", "dist/katex.min.css", "dist/fonts/"),
            "LICENSE"),
)


def fetch(url: str) -> bytes:
    """Return the body at `url` (the npm registry), or exit with one line saying why not."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except OSError as error:
        sys.exit(f"Cannot fetch {url}: {error}")


def tarball(library: Library) -> bytes:
    """Download the library's tarball and check it against the registry's integrity."""
    meta = json.loads(fetch(f"{REGISTRY}/{library.package}/{library.version}"))
    data = fetch(meta["dist"]["tarball"])
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        sys.exit(f"{library.package} {library.version}: the tarball does not match its "
                 f"{algorithm} integrity")
    return data


def wanted(library: Library, name: str) -> str | None:
    """Return where a tarball member goes under the library's folder, or None to skip it."""
    inside = name.removeprefix("package/")
    if inside == library.licence:
        return "LICENSE"
    for path in library.files:
        if inside == path:
            return Path(path).name
        # A folder (KaTeX's fonts): its web fonts, beside the CSS that names them fonts/...
        if path.endswith("/") and inside.startswith(path) and inside.endswith(".woff2"):
            return f"{Path(path).name}/{Path(inside).name}"
    return None


def extract(library: Library, data: bytes) -> list[str]:
    """Write the library's files into static/vendor/FOLDER; return their names."""
    target = VENDOR / library.folder
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            destination = wanted(library, member.name) if member.isfile() else None
            if destination is None:
                continue
            path = target / destination
            path.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            path.write_bytes(source.read())
            written.append(destination)
    return sorted(written)


def versions_page(contents: dict[str, list[str]]) -> str:
    """Return static/vendor/VERSIONS.md: each library, its version, licence and files."""
    lines = ["# Vendored front-end libraries", "",
             "Written by `python tools/vendor.py`; do not edit by hand.", "",
             "| library | version | folder | files |", "|---|---|---|---|"]
    for library in LIBRARIES:
        files = ", ".join(f"`{name}`" for name in contents[library.folder])
        lines.append(f"| {library.package} | {library.version} | `{library.folder}/` | {files} |")
    return "\n".join(lines) + "\n"


def check() -> list[str]:
    """Return what is missing from static/vendor/ against the pins (empty: all there)."""
    problems = []
    page = (VENDOR / "VERSIONS.md").read_text() if (VENDOR / "VERSIONS.md").exists() else ""
    for library in LIBRARIES:
        if f"| {library.package} | {library.version} |" not in page:
            problems.append(f"{library.package} {library.version} is not in VERSIONS.md")
        for name in ("LICENSE", *(Path(path).name for path in library.files
                                  if not path.endswith("/"))):
            if not (VENDOR / library.folder / name).is_file():
                problems.append(f"static/vendor/{library.folder}/{name} is missing")
    return problems


def main() -> None:
    """Fetch every pinned library (or, with --check, verify what is there)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify static/vendor/, offline")
    if parser.parse_args().check:
        problems = check()
        print("\n".join(problems) or "static/vendor/ matches the pins")
        sys.exit(1 if problems else 0)
    contents = {}
    for library in LIBRARIES:
        contents[library.folder] = extract(library, tarball(library))
        print(f"{library.package} {library.version}: {len(contents[library.folder])} files")
    (VENDOR / "VERSIONS.md").write_text(versions_page(contents))


if __name__ == "__main__":
    main()
