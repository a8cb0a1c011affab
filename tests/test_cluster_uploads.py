"""Files in a cluster: nodes that share one --upload-dir serve and remove each other's uploads.

Real `run.py --redis` nodes (tests/cluster_nodes.py), a real redis-server, real
HTTP and real sockets; the shared disk is one temporary directory.
"""

import json

import pytest
from cluster_nodes import join, start_node  # noqa: F401 (a fixture)
from conftest import next_event, send
from servers import ChatServer
from tornado.httpclient import HTTPRequest, HTTPResponse

KEY = "k" * 32
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


async def upload(http_client, node: ChatServer, session: str, body: bytes = PNG
                 ) -> HTTPResponse:
    """Upload `body` to the room general through `node` (any status)."""
    request = HTTPRequest(f"{node.url}/upload?room=general", method="POST", body=body,
                          headers={"X-Session": session, "X-File-Name": "photo.png"})
    return await http_client.fetch(request, raise_error=False)


async def message(ws, text: str) -> dict:
    """Read until the message with this text arrives."""
    while (event := await next_event(ws, "message"))["text"] != text:
        pass
    return event


@pytest.mark.gen_test(timeout=60)
async def test_a_file_uploaded_through_one_node_is_served_and_deleted_through_another(
        start_node, tmp_path, http_client):
    """Uploaded and posted through A, the file is served by B; a host's delete through B
    removes it for both."""
    shared = str(tmp_path / "shared")
    a = start_node("--upload-dir", shared, "--host-key", KEY)
    b = start_node("--upload-dir", shared)
    ada, _ = await join(a, nick="ada", session="s-ada")
    teacher, _ = await join(b, nick="teacher", session="s-teacher")
    await send(teacher, {"type": "host", "key": KEY})
    await next_event(teacher, "hosts")
    uploaded = await upload(http_client, a, "s-ada")
    assert uploaded.code == 201, uploaded.body
    await send(ada, {"type": "message", "text": "look", "file": json.loads(uploaded.body)["file"]})
    posted = await message(teacher, "look")
    served = await http_client.fetch(b.url + posted["file"]["url"])
    assert served.body == PNG and served.headers["Content-Type"] == "image/png"
    await send(teacher, {"type": "delete", "target": posted["id"]})
    await next_event(ada, "delete")  # B removes the file in the step that appends the delete
    for node in (a, b):
        gone = await http_client.fetch(node.url + posted["file"]["url"], raise_error=False)
        assert gone.code == 404


@pytest.mark.gen_test(timeout=60)
async def test_a_node_without_an_upload_dir_takes_no_uploads_but_still_chats(
        start_node, http_client):
    """--redis without --upload-dir: uploads are 503 no_uploads naming --upload-dir."""
    node = start_node()
    ada, _ = await join(node, nick="ada", session="s-ada")
    refused = await upload(http_client, node, "s-ada")
    assert refused.code == 503
    answer = json.loads(refused.body)
    assert answer["code"] == "no_uploads" and "--upload-dir" in answer["message"]
    await send(ada, {"type": "message", "text": "still here", "file": "A" * 22})
    assert (await next_event(ada, "error"))["code"] == "no_such_file"
    await send(ada, {"type": "message", "text": "still here"})
    await message(ada, "still here")
