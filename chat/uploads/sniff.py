"""Judge an upload's type by its first bytes, never by its name. No I/O.

Four image formats are shown inline by the page; programs are refused; the
rest (SVG and HTML included, which a browser would run scripts in) is served
only as a download, as application/octet-stream.
"""

HEAD = 16  # bytes enough to judge every format below
DOWNLOAD = "application/octet-stream"

# (magic at offset 0, media type); WebP is RIFF....WEBP, checked apart.
IMAGES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
WEBP = "image/webp"
IMAGE_TYPES = frozenset({media for _, media in IMAGES} | {WEBP})

PROGRAMS: tuple[bytes, ...] = (
    b"MZ",  # Windows (and DOS) executables and DLLs: a PE file starts with its MZ stub
    b"\x7fELF",  # Linux and most Unix executables, shared libraries
    # Mach-O (macOS, iOS), 32 and 64 bits, in either byte order:
    b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",
    # Mach-O universal ("fat") binaries, 32- and 64-bit tables, in either byte order
    # (CAFEBABE is also a Java class file: a program too).
    b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca", b"\xca\xfe\xba\xbf", b"\xbf\xba\xfe\xca",
)


class RefusedType(ValueError):
    """The upload is a program: the server keeps none."""


def image_type(head: bytes) -> str | None:
    """Return the media type of one of the four image formats that `head` begins, else None."""
    for magic, media in IMAGES:
        if head.startswith(magic):
            return media
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def is_program(head: bytes) -> bool:
    """Tell whether `head` begins an executable for Windows, Linux or macOS."""
    return head.startswith(PROGRAMS)


def judge(head: bytes) -> tuple[str, bool]:
    """Return the media type to serve a file with and whether it is an image; refuse programs.

    `head` is the file's first HEAD bytes (all of it, if shorter).
    """
    if is_program(head):
        raise RefusedType("Programs cannot be shared here (a Windows, Linux or macOS executable).")
    media = image_type(head)
    return (media, True) if media is not None else (DOWNLOAD, False)
