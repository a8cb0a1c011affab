"""The keys the cluster keeps in Redis and the Lua scripts (chat/lua/) that change them.

Everything shared changes inside a script, one atomic step each. Scripts are
loaded once by SHA and run by EVALSHA, loaded again if Redis forgot them.
"""

from pathlib import Path

import redis
import redis.asyncio

CHANNEL = "chat:events"  # every event of every room, heard by every node
ROOMS = "chat:rooms"  # set: the rooms with people online
NODES = "chat:nodes"  # sorted set: node -> its last heartbeat (ms)
KNOWN = "chat:nodes:known"  # set: every node that may hold nicknames, listed or not
ARRIVALS = "chat:arrivals"  # counter: the order people arrived in, across rooms
SERVER_STATE = "chat:state"  # hash: the server's fields (bans, host:SESSION, the host key)
LUA = Path(__file__).resolve().parent.parent / "lua"


def room_key(room: str, part: str) -> str:
    """Return the key of one part of a room; the {braces} keep a room on one Redis Cluster slot."""
    return f"chat:{{{room}}}:{part}"


def node_key(node: str) -> str:
    """Return the key of the set of "ROOM\\nNICK KEY" that one node's people hold."""
    return f"chat:node:{node}"


class Scripts:
    """The Lua scripts, each with chat/lua/common.lua in front of it."""

    def __init__(self) -> None:
        common = (LUA / "common.lua").read_text()
        self.texts = {
            path.stem: common + path.read_text()
            for path in LUA.glob("*.lua")
            if path.stem != "common"
        }
        self.shas: dict[str, str] = {}

    async def load(self, client: redis.asyncio.Redis) -> None:
        """Load every script into Redis (after a start, or a restart that emptied it)."""
        for name, text in self.texts.items():
            self.shas[name] = await client.script_load(text)

    async def run(self, client: redis.asyncio.Redis, name: str, keys: list[str], args: list):
        """Run one script and return its reply (or raise its error)."""
        reply = (await self.run_batch(client, [(name, keys, args)]))[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def run_batch(self, client: redis.asyncio.Redis, calls: list[tuple[str, list, list]]):
        """Run scripts in one round trip, in order; return each reply or the error it raised."""
        for attempt in (1, 2):
            pipe = client.pipeline(transaction=False)
            for name, keys, args in calls:
                pipe.evalsha(self.shas[name], len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
            if attempt == 1 and any(isinstance(r, redis.exceptions.NoScriptError) for r in replies):
                await self.load(client)  # Redis restarted empty: nothing in this batch ran
                continue
            return replies
        return replies
