"""chat/uploads/sniff.py and names.py: a file's type from its first bytes, its name made safe."""

import pytest

from chat.uploads import names, sniff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(("head", "media"), [
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"GIF87a\x01\x00\x01\x00", "image/gif"),
    (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
])
def test_the_four_image_formats_are_images(head, media):
    """PNG, JPEG, GIF (both versions) and WebP are images, of their own media type."""
    assert sniff.judge(head) == (media, True)


@pytest.mark.parametrize("head", [
    b'<svg xmlns="http://www.w3.org/2000/svg">',
    b"<?xml version='1.0'?><svg>",
    b"<!DOCTYPE html><html>",
    b"<html><script>",
    b"%PDF-1.7\n",
    b"PK\x03\x04 a zip",
    b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but not WebP
    b"\x89PNG",  # too short to be a PNG
    b"GIF88a",
    b"",
])
def test_anything_else_is_a_download(head):
    """SVG, HTML and every other content is application/octet-stream, never an image."""
    assert sniff.judge(head) == ("application/octet-stream", False)


@pytest.mark.parametrize("head", [
    b"MZ\x90\x00\x03\x00\x00\x00",  # Windows PE / DOS
    b"\x7fELF\x02\x01\x01\x00",  # Linux
    b"\xfe\xed\xfa\xce\x00\x00\x00\x07",  # Mach-O 32-bit, big-endian
    b"\xce\xfa\xed\xfe\x07\x00\x00\x00",  # Mach-O 32-bit, little-endian
    b"\xfe\xed\xfa\xcf\x01\x00\x00\x07",  # Mach-O 64-bit, big-endian
    b"\xcf\xfa\xed\xfe\x07\x00\x00\x01",  # Mach-O 64-bit, little-endian
    b"\xca\xfe\xba\xbe\x00\x00\x00\x02",  # universal (fat)
    b"\xbe\xba\xfe\xca\x02\x00\x00\x00",  # universal, byte-swapped
    b"\xca\xfe\xba\xbf\x00\x00\x00\x02",  # universal with 64-bit offsets
    b"\xbf\xba\xfe\xca\x02\x00\x00\x00",  # the same, byte-swapped
])
def test_programs_are_refused(head):
    """Executables for Windows, Linux and macOS, in every magic variant, are refused."""
    assert sniff.is_program(head)
    with pytest.raises(sniff.RefusedType):
        sniff.judge(head)


def test_a_program_is_judged_from_its_first_bytes_only():
    """The magic must open the file: the same bytes later on are just data."""
    assert not sniff.is_program(b"hello \x7fELF")
    assert sniff.judge(PNG + b"MZ") == ("image/png", True)


@pytest.mark.parametrize(("header", "name"), [
    ("photo%20one.png", "photo one.png"),
    ("%E6%97%A5%E6%9C%AC.txt", "日本.txt"),
    ("..%2F..%2Fetc%2Fpasswd", "passwd"),
    ("C%3A%5Cfakepath%5Ca.png", "a.png"),
    ("a%0D%0ASet-Cookie%3A%20x.png", "aSet-Cookie: x.png"),
    ("%E2%80%AEgpj.exe", "gpj.exe"),  # a right-to-left override
    ("..", "file"),
    ("", "file"),
])
def test_names_are_decoded_and_lose_paths_and_control_characters(header, name):
    """X-File-Name is percent-decoded, then kept to its last part, without control characters."""
    assert names.clean(names.decode(header)) == name


def test_long_names_are_cut_keeping_their_extension():
    """A name over MAX_NAME characters is cut, its extension kept."""
    name = names.clean("a" * 300 + ".jpeg")
    assert len(name) == names.MAX_NAME and name.endswith("a.jpeg")
    assert len(names.clean("b" * 300)) == names.MAX_NAME


def test_a_name_that_is_not_utf8_is_refused():
    """Percent-encoded bytes that are not UTF-8 are BadName."""
    with pytest.raises(names.BadName):
        names.decode("%FF%FE.png")
