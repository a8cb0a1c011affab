"""Rooms, typing and invitations through real sockets."""

import io
import json
from urllib.parse import quote

import pytest
import segno
from conftest import next_event, send
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.websocket import websocket_connect

from chat.config import Settings

INVITE = "http://192.0.2.7:3000"


@pytest.fixture
def settings(tmp_path) -> Settings:
    """One LAN address to invite people to."""
    return Settings(db=tmp_path / "chat.db", invite_urls=(INVITE,))


@pytest.mark.gen_test
async def test_rooms_have_their_own_people_messages_and_ids(connect):
    """Messages, presence and ids stay inside their room."""
    ada, general = await connect(path="/ws?nick=ada")
    bob, maths = await connect(path="/ws?nick=bob&room=maths")
    assert (general["room"], maths["room"]) == ("general", "maths")
    assert maths["online"] == ["bob"]
    await send(ada, {"type": "message", "text": "in general"})
    await send(bob, {"type": "message", "text": "in maths"})
    assert (await next_event(ada, "message"))["text"] == "in general"
    in_maths = await next_event(bob, "message")
    assert (in_maths["text"], in_maths["room"], in_maths["id"]) == ("in maths", "maths", 1)
    _, later = await connect(path="/ws?nick=cy&room=maths&since=0")
    assert [m["text"] for m in later["history"]] == ["in maths"]


@pytest.mark.gen_test
async def test_a_nickname_is_unique_within_a_room_only(connect):
    """The same nickname may be in two rooms, but not twice in one."""
    _, general = await connect(path="/ws?nick=ada")
    _, maths = await connect(path="/ws?nick=ada&room=maths")
    _, again = await connect(path="/ws?nick=ada&room=maths")
    assert (general["nick"], maths["nick"], again["nick"]) == ("ada", "ada", "ada-2")


@pytest.mark.gen_test
async def test_room_names_ignore_case_and_default_to_general(connect):
    """`Maths` is `maths`; no room, or an empty one, is general, as for the lesson's URL."""
    _, upper = await connect(path="/ws?room=Maths")
    _, empty = await connect(path="/ws?room=")
    _, lesson = await connect(path="/")
    assert (upper["room"], empty["room"], lesson["room"]) == ("maths", "general", "general")


@pytest.mark.gen_test
@pytest.mark.parametrize("room", ["हिन्दी", "ภาษาไทย", "数学", "A-b_2"])
async def test_room_names_in_any_script_are_welcome(connect, room):
    """Letters, marks and digits of any script make a room name."""
    _, welcome = await connect(path=f"/ws?room={quote(room)}")
    assert welcome["room"] == room.lower()


@pytest.mark.gen_test
@pytest.mark.parametrize("room", ["no spaces", "x" * 33, "semi;colon", "a/b"])
async def test_a_bad_room_name_is_refused_with_400_and_a_reason(http_server, http_port, room):
    """A room name outside the rules refuses the handshake with 400 and why."""
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(f"ws://127.0.0.1:{http_port}/ws?room={quote(room)}")
    assert refused.value.code == 400
    assert "room name" in refused.value.response.reason


@pytest.mark.gen_test
async def test_the_rooms_event_follows_rooms_opening_and_emptying(connect):
    """Everyone, in every room, learns when a room gets its first person or loses its last."""
    ada, welcome = await connect(path="/ws?nick=ada")
    assert welcome["rooms"] == ["general"]
    assert (await next_event(ada, "rooms"))["rooms"] == ["general"]
    bob, maths = await connect(path="/ws?nick=bob&room=maths")
    assert maths["rooms"] == ["general", "maths"]
    assert (await next_event(ada, "rooms"))["rooms"] == ["general", "maths"]
    bob.close()
    assert (await next_event(ada, "rooms"))["rooms"] == ["general"]


@pytest.mark.gen_test
async def test_a_room_opened_and_emptied_in_a_loop_costs_bystanders_little(connect):
    """Ten rounds of "open a room, leave it" cost a bystander one rooms event a second at most."""
    bystander, _ = await connect(nick="bystander")
    assert (await next_event(bystander, "rooms"))["rooms"] == ["general"]
    for number in range(10):
        flooder, _ = await connect(path=f"/ws?nick=f{number}&room=flood", source="127.0.0.2")
        flooder.close()
        while await flooder.read_message() is not None:  # until closed: the room emptied
            pass
    seen = await events_until_marker(bystander, "marker")
    rooms_events = [event for event in seen if event["type"] == "rooms"]
    assert len(rooms_events) <= 1, rooms_events  # without coalescing: 20, two per round


async def events_until_marker(ws, text: str) -> list[dict]:
    """Send a message and return every event received before it came back."""
    await send(ws, {"type": "message", "text": text})
    events = []
    while (event := json.loads(await ws.read_message())).get("text") != text:
        events.append(event)
    return events


@pytest.mark.gen_test
async def test_typing_reaches_the_others_in_the_room_only(connect):
    """`typing` is relayed to the room, not to the typist nor to other rooms, and not stored."""
    ada, _ = await connect(path="/ws?nick=ada")
    bob, _ = await connect(path="/ws?nick=bob")
    elsewhere, _ = await connect(path="/ws?nick=cy&room=maths")
    for _ in range(20):  # a flood of typing: relayed once a second, never refused
        await send(ada, {"type": "typing"})
    assert await next_event(bob, "typing") == {"type": "typing", "nick": "ada"}
    for ws, marker in ((ada, "from ada"), (elsewhere, "from cy"), (bob, "from bob")):
        kinds = [event["type"] for event in await events_until_marker(ws, marker)]
        assert "typing" not in kinds and "error" not in kinds, kinds
    _, later = await connect(path="/ws?nick=dee&since=0")
    assert [m["text"] for m in later["history"]] == ["from ada", "from bob"]


@pytest.mark.gen_test
@pytest.mark.parametrize("query, url", [("", INVITE), ("&room=maths", INVITE + "/#maths"),
                                        ("&room=general", INVITE)])
async def test_invite_svg_is_a_qr_code_of_the_address(http_server, http_port, query, url):
    """/invite.svg draws the QR code of the chosen address, in the chosen room."""
    response = await AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{http_port}/invite.svg?address=0{query}"
    )
    assert response.headers["Content-Type"] == "image/svg+xml"
    expected = io.BytesIO()
    segno.make(url, error="m").save(expected, kind="svg", scale=8, border=4, title=url)
    assert response.body == expected.getvalue()


@pytest.mark.gen_test
@pytest.mark.parametrize("query, code", [("address=1", 404), ("address=x", 404),
                                         ("address=%C2%B2", 404), ("address=%D9%A0", 404),
                                         ("address=" + "9" * 5000, 404),
                                         ("address=0&room=a/b", 400)])
async def test_a_bad_invitation_request_says_why(http_server, http_port, query, code):
    """An address out of range is 404 and a bad room 400, each with a reason."""
    with pytest.raises(HTTPClientError) as refused:
        await AsyncHTTPClient().fetch(f"http://127.0.0.1:{http_port}/invite.svg?{query}")
    assert refused.value.code == code
    assert refused.value.response.reason not in ("Not Found", "Bad Request")


@pytest.mark.gen_test
async def test_the_page_lists_the_invitation_addresses(http_server, http_port):
    """The page carries every address to invite people to."""
    page = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{http_port}/")
    assert INVITE in page.body.decode()


@pytest.mark.gen_test
async def test_a_message_lets_the_next_typing_through_at_once(connect):
    """After a message, typing for the next one is relayed without waiting out the throttle."""
    ada, _ = await connect(path="/ws?nick=ada")
    bob, _ = await connect(path="/ws?nick=bob")
    await send(ada, {"type": "typing"})
    await send(ada, {"type": "message", "text": "first"})
    await send(ada, {"type": "typing"})
    kinds = []
    while len(kinds) < 3:
        event = json.loads(await bob.read_message())
        if event["type"] in ("typing", "message"):
            kinds.append(event["type"])
    assert kinds == ["typing", "message", "typing"]


@pytest.mark.gen_test
@pytest.mark.parametrize("settings", [Settings(db=":memory:", invite_urls=(INVITE,), max_per_ip=2)])
async def test_invite_codes_are_drawn_once_and_a_loop_of_new_ones_is_refused(
    settings, http_server, http_port
):
    """The same code again comes from the cache; new ones past the address's budget get 429."""
    fetch = AsyncHTTPClient().fetch
    base = f"http://127.0.0.1:{http_port}/invite.svg?address=0"
    first = await fetch(base)
    for _ in range(20):  # the cached code costs nothing
        assert (await fetch(base)).body == first.body
    for number in range(3):  # twice --max-per-ip in all, the first draw included
        await fetch(f"{base}&room=r{number}")
    with pytest.raises(HTTPClientError) as refused:
        await fetch(f"{base}&room=another")
    assert refused.value.code == 429 and int(refused.value.response.headers["Retry-After"]) >= 1
    assert (await fetch(f"{base}&room=r0")).code == 200  # drawn already: still served
