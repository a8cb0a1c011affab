"""Files through a real server: upload over HTTP, post over the socket, serve, refuse, remove.

Real sockets and real HTTP (pytest-tornado's server and client); a request
the client library would not send (no Content-Length, a body held back) is
written by hand on a TCP stream.
"""

import json
import logging
import os
import re
import time
from urllib.parse import quote

import pytest
from cluster_nodes import wait_until
from conftest import next_event, send
from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.tcpclient import TCPClient

from chat.config import Settings
from chat.uploads.files import PENDING_SECONDS

KEY = "k" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
ELF = b"\x7fELF\x02\x01\x01" + bytes(60)


@pytest.fixture
def limits() -> dict:
    """What a test changes of the settings (parametrize `limits` to change it)."""
    return {}


@pytest.fixture
def settings(tmp_path, limits) -> Settings:
    """The usual test settings, with a known host key and the test's limits."""
    return Settings(db=tmp_path / "chat.db", history=5, max_text=100, rate=100, burst=1000,
                    host_key=KEY, **limits)


@pytest.fixture
def upload(http_client, http_port):
    """Return a function that uploads `body` and returns the response (any status)."""

    async def post(body: bytes, name: str | None = "photo.png", session: str | None = "s-ada",
                   room: str = "general", source: str | None = None) -> HTTPResponse:
        headers = {"Content-Type": "application/octet-stream"}
        if session is not None:
            headers["X-Session"] = session
        if name is not None:
            headers["X-File-Name"] = quote(name)
        request = HTTPRequest(f"http://127.0.0.1:{http_port}/upload?room={quote(room)}",
                              method="POST", body=body, headers=headers,
                              network_interface=source)
        return await http_client.fetch(request, raise_error=False)

    return post


@pytest.fixture
def get(http_client, http_port):
    """Return a function that GETs a path of the server, with these headers (any status)."""

    async def fetch(path: str, headers: dict | None = None) -> HTTPResponse:
        return await http_client.fetch(f"http://127.0.0.1:{http_port}{path}", headers=headers,
                                       raise_error=False)

    return fetch


def answer(response: HTTPResponse) -> dict:
    """Return the JSON an upload was answered with."""
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


async def uploaded(upload, body: bytes = PNG, **options) -> dict:
    """Upload a file that must be taken; return its answer."""
    response = await upload(body, **options)
    assert response.code == 201, response.body
    return answer(response)


async def message(ws, text: str) -> dict:
    """Read until the message with this text arrives."""
    while (event := await next_event(ws, "message"))["text"] != text:
        pass
    return event


async def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a request written by hand; return the status and body of the answer."""
    stream = await TCPClient().connect("127.0.0.1", port)
    try:
        await stream.write(head.encode() + body)
        header = await stream.read_until(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", header)
        assert length is not None, header
        return int(header.split()[1]), await stream.read_bytes(int(length[1]))
    finally:
        stream.close()


def upload_head(port: int, length: int | str | None, session: str = "s-ada") -> str:
    """Return the head of an upload request, with this Content-Length (None: none)."""
    head = (f"POST /upload?room=general HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"X-Session: {session}\r\n")
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return head + "\r\n"


@pytest.mark.gen_test
async def test_an_uploaded_file_posted_in_a_message_reaches_everyone(connect, upload, get):
    """Upload, then post with an empty caption: everyone gets the message with the file."""
    ada, _ = await connect("ada", session="s-ada")
    bob, _ = await connect("bob", session="s-bob")
    file = await uploaded(upload, name="photo one.png")
    assert set(file) == {"file", "name", "size", "type", "image"}
    assert (file["name"], file["size"], file["type"], file["image"]) == (
        "photo one.png", len(PNG), "image/png", True)
    await send(ada, {"type": "message", "text": "", "file": file["file"], "ref": "r-1"})
    posted = await message(bob, "")
    assert posted["file"] == {"url": f"/uploads/{file['file']}/photo%20one.png",
                              "name": "photo one.png", "size": len(PNG), "type": "image/png",
                              "image": True}
    assert (await next_event(ada, "ack"))["id"] == posted["id"]
    served = await get(posted["file"]["url"])
    assert served.code == 200 and served.body == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served.headers["Content-Disposition"] == "inline; filename*=UTF-8''photo%20one.png"
    again = await get(posted["file"]["url"], {"If-None-Match": served.headers["Etag"]})
    assert again.code == 304 and not again.body
    _, welcome = await connect("carol")
    assert welcome["history"][-1]["file"] == posted["file"]


@pytest.mark.gen_test
@pytest.mark.parametrize("body", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    b"just some notes\n",
])
async def test_svg_html_and_anything_else_is_a_download_never_an_image(upload, get, body):
    """Whatever the name says, a file that is not one of the four images is served as
    application/octet-stream, as an attachment."""
    file = await uploaded(upload, body, name="picture.svg")
    assert (file["type"], file["image"]) == ("application/octet-stream", False)
    served = await get(f"/uploads/{file['file']}/picture.svg")
    assert served.body == body
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"] == "attachment; filename*=UTF-8''picture.svg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.gen_test
async def test_the_content_decides_the_type_not_the_name(upload):
    """An ELF called photo.png is refused 415; a PNG called x.exe is an image."""
    refused = await upload(ELF, name="photo.png")
    assert refused.code == 415 and answer(refused)["code"] == "refused_type"
    for program in (b"MZ\x90\x00" + bytes(60), b"\xca\xfe\xba\xbe" + bytes(60)):
        assert (await upload(program, name="game.zip")).code == 415
    file = await uploaded(upload, PNG, name="x.exe")
    assert (file["name"], file["type"], file["image"]) == ("x.exe", "image/png", True)


@pytest.mark.gen_test
async def test_a_name_loses_its_path_and_control_characters(upload):
    """A name with a path, a newline or a bidi override is shown without them."""
    file = await uploaded(upload, name="C:\\fakepath\\../evil\n\u202egpj.exe")
    assert file["name"] == "evilgpj.exe"
    assert (await uploaded(upload, name=None))["name"] == "file"


@pytest.mark.gen_test
@pytest.mark.parametrize("limits", [{"max_upload": 1000}])
async def test_too_large_is_refused_from_the_content_length_before_the_body(http_server, http_port,
                                                                            limits):
    """413 comes back while the body has not been sent; no Content-Length is 411."""
    status, body = await raw_request(http_port, upload_head(http_port, 1001))  # no body sent
    assert status == 413 and json.loads(body)["code"] == "too_large"
    status, body = await raw_request(http_port, upload_head(http_port, None))
    assert status == 411 and json.loads(body)["code"] == "length_required"
    status, body = await raw_request(http_port, upload_head(http_port, "9" * 5000))
    assert status == 400 and json.loads(body)["code"] == "bad_upload"
    status, body = await raw_request(http_port, upload_head(http_port, 5), b"hello")
    assert status == 201 and json.loads(body)["size"] == 5


@pytest.mark.gen_test
@pytest.mark.parametrize("limits", [{"max_upload": 1000, "upload_quota": 1500}])
async def test_past_the_quota_an_upload_is_refused_507(upload, limits):
    """The files kept (with their sidecars) and the new one may not pass --upload-quota."""
    await uploaded(upload, PNG + bytes(700))
    refused = await upload(PNG + bytes(700))
    assert refused.code == 507 and answer(refused)["code"] == "over_quota"


@pytest.mark.gen_test
@pytest.mark.parametrize("limits", [{"max_upload": 1000, "upload_quota": 1500}])
async def test_an_upload_under_way_counts_whole_and_a_dropped_one_leaves_nothing(
        http_server, http_port, upload, tmp_path, limits):
    """An upload half sent already holds its whole Content-Length of the quota; when its
    client goes away, its part file goes."""
    stream = await TCPClient().connect("127.0.0.1", http_port)
    await stream.write(upload_head(http_port, 900).encode() + PNG)
    directory = tmp_path / "uploads"
    [part] = await wait_until("the part file", lambda: list(directory.glob(".part-*")))
    assert part.stat().st_size == 900
    refused = await upload(PNG + bytes(700))
    assert refused.code == 507 and answer(refused)["code"] == "over_quota"
    stream.close()
    await wait_until("the part file to go", lambda: not part.exists())
    await uploaded(upload, PNG + bytes(700))


@pytest.mark.gen_test
@pytest.mark.parametrize("limits", [{"uploads_per_minute": 2}])
async def test_too_many_uploads_from_one_address_get_429_with_retry_after(upload, limits):
    """The third upload in a minute from one address waits; another address does not."""
    for _ in range(2):
        await uploaded(upload)
    refused = await upload(PNG)
    assert refused.code == 429 and answer(refused)["code"] == "upload_rate"
    assert 0 < int(refused.headers["Retry-After"]) <= 30
    await uploaded(upload, source="127.0.0.2")


@pytest.mark.gen_test
async def test_an_upload_needs_a_session_a_room_and_a_body(upload):
    """No X-Session, a bad room or an empty file: 400 bad_upload."""
    for response in (await upload(PNG, session=None), await upload(PNG, room="no room!"),
                     await upload(b"")):
        assert response.code == 400 and answer(response)["code"] == "bad_upload"


@pytest.mark.gen_test
@pytest.mark.parametrize("limits", [{"max_upload": 0}])
async def test_max_upload_0_turns_uploads_off(upload, limits):
    """--max-upload 0: every upload is 503 no_uploads, saying so."""
    refused = await upload(PNG)
    assert refused.code == 503 and answer(refused)["code"] == "no_uploads"
    assert "--max-upload 0" in answer(refused)["message"]


@pytest.mark.gen_test
async def test_a_kicked_address_cannot_upload_to_the_room(connect, upload):
    """Kicked, bob's address gets 403 barred with the reason; another room still takes it."""
    teacher, _ = await connect("teacher", session="s-teacher")
    await send(teacher, {"type": "host", "key": KEY})
    await next_event(teacher, "hosts")
    await connect("bob", session="s-bob", source="127.0.0.2")
    await send(teacher, {"type": "kick", "nick": "bob"})
    await next_event(teacher, "kick")
    refused = await upload(PNG, session="s-new", source="127.0.0.2")
    assert refused.code == 403 and answer(refused)["code"] == "barred"
    assert "removed from this room" in answer(refused)["message"]
    await uploaded(upload, session="s-bob", source="127.0.0.2", room="maths")


@pytest.mark.gen_test
async def test_only_the_uploading_page_may_post_a_file_in_its_room(connect, upload):
    """Another page's file, or one uploaded for another room, is no_such_file (naming the ref);
    an empty text without a file is still `empty`."""
    ada, _ = await connect("ada", session="s-ada")
    ada_maths, _ = await connect("ada", session="s-ada", room="maths")
    bob, _ = await connect("bob", session="s-bob")
    file = (await uploaded(upload))["file"]
    await send(bob, {"type": "message", "text": "mine now", "file": file, "ref": "r-1"})
    refusal = await next_event(bob, "error")
    assert (refusal["code"], refusal["ref"]) == ("no_such_file", "r-1")
    await send(ada_maths, {"type": "message", "text": "here?", "file": file})
    assert (await next_event(ada_maths, "error"))["code"] == "no_such_file"
    await send(ada, {"type": "message", "text": " "})
    assert (await next_event(ada, "error"))["code"] == "empty"
    await send(ada, {"type": "message", "text": "x", "file": 42})
    assert (await next_event(ada, "error"))["code"] == "bad_message"
    await send(ada, {"type": "message", "text": "mine", "file": file})
    assert (await message(bob, "mine"))["file"]["name"] == "photo.png"


@pytest.mark.gen_test
async def test_delete_removes_the_file_and_clear_removes_every_file_of_the_room(
        connect, upload, get):
    """Deleting a message makes its file 404; clearing the room takes all the room's files,
    posted or not, and leaves other rooms' files."""
    teacher, _ = await connect("teacher", session="s-teacher")
    await send(teacher, {"type": "host", "key": KEY})
    await next_event(teacher, "hosts")
    ada, _ = await connect("ada", session="s-ada")
    files = [await uploaded(upload) for _ in range(3)]
    elsewhere = await uploaded(upload, room="maths")
    posted = []
    for index, file in enumerate(files[:2]):
        await send(ada, {"type": "message", "text": f"file {index}", "file": file["file"]})
        posted.append(await message(teacher, f"file {index}"))
    await send(ada, {"type": "delete", "target": posted[0]["id"]})
    await next_event(teacher, "delete")
    assert (await get(posted[0]["file"]["url"])).code == 404
    assert (await get(posted[1]["file"]["url"])).code == 200
    await send(teacher, {"type": "clear"})
    await next_event(teacher, "clear")
    for file in files[1:]:
        assert (await get(f"/uploads/{file['file']}/photo.png")).code == 404
    assert (await get(f"/uploads/{elsewhere['file']}/photo.png")).code == 200


@pytest.mark.gen_test
async def test_a_file_not_posted_within_10_minutes_goes_at_the_next_upload(
        connect, upload, get, tmp_path):
    """An unposted file 10 minutes old is removed by the next upload; a posted one stays."""
    ada, _ = await connect("ada", session="s-ada")
    left = await uploaded(upload)
    kept = await uploaded(upload)
    await send(ada, {"type": "message", "text": "kept", "file": kept["file"]})
    await message(ada, "kept")
    long_ago = time.time() - PENDING_SECONDS - 1
    for path in (tmp_path / "uploads").iterdir():  # the files' own clock: their times
        os.utime(path, (long_ago, long_ago))
    await uploaded(upload)
    assert (await get(f"/uploads/{left['file']}/photo.png")).code == 404
    assert (await get(f"/uploads/{kept['file']}/photo.png")).code == 200
    await send(ada, {"type": "message", "text": "late", "file": left["file"]})
    assert (await next_event(ada, "error"))["code"] == "no_such_file"


@pytest.mark.gen_test
@pytest.mark.parametrize("path", [
    "/uploads/..%2Fchat.db/x", "/uploads/..%2F..%2Fetc%2Fpasswd/x", "/uploads/%2e%2e/chat.db",
    "/uploads/../chat.db", "/uploads/chat.db/x", "/uploads/AAAAAAAAAAAAAAAAAAAAAA/x",
    "/uploads/AAAAAAAAAAAAAAAAAAAAAA.json/x", "/uploads/x",
])
async def test_no_path_but_a_kept_file_id_is_served(get, path, tmp_path):
    """Traversal attempts and unknown or ill-shaped IDs are 404."""
    decoy = {"name": "x", "size": 1, "type": "image/png", "image": True, "room": "general",
             "session": "s", "time": 0}  # a sidecar whose bytes are gone
    (tmp_path / "uploads" / "AAAAAAAAAAAAAAAAAAAAAA.json").write_text(json.dumps(decoy))
    assert (await get(path)).code == 404


@pytest.mark.gen_test
async def test_the_uploaders_session_is_kept_only_as_a_digest_and_never_logged(
        upload, tmp_path, caplog):
    """The sidecar holds a digest of X-Session; neither it nor the log holds the secret."""
    caplog.set_level(logging.DEBUG)
    secret = "the-page-secret-1234"
    await uploaded(upload, session=secret)
    sidecars = [path.read_text() for path in (tmp_path / "uploads").glob("*.json")]
    assert len(sidecars) == 1 and '"session": "' in sidecars[0]
    assert secret not in sidecars[0] and secret not in caplog.text


@pytest.mark.gen_test
async def test_a_large_file_streams_in_and_out_whole(upload, get):
    """A 3 MB file arrives and is served back byte for byte (in chunks, both ways)."""
    body = PNG + os.urandom(3 * 1024 * 1024)
    file = await uploaded(upload, body)
    served = await get(f"/uploads/{file['file']}/photo.png")
    assert served.code == 200 and served.body == body
