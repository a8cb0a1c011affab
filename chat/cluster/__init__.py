"""The cluster through Redis: many processes, on one host or many, serving the same rooms.

`RedisHub` (hub.py) is the Hub of chat/hub.py for a cluster. Around it, one
job per module: streams.py (each room's log as a node delivers it, in id
order, gaps fetched from the history), standings.py (each room's standing
fields as a node knows them, read again when an entry changes them, its
events waiting meanwhile), powers.py (what a host's commands read and order),
hostkeys.py (the host key, settled in Redis), entrance.py (enter.lua's reply
and the welcome), appending.py (an entry and its effects as append.lua's
arguments), people.py (who is on a node, room by room), listener.py (the
subscription: what a node hears goes to its sockets; after an outage it
catches up), heartbeat.py (a node alive in the cluster, the leaves Redis
refused run again, the departure), background.py (what a node sends without
waiting, logged if it fails), scripts.py (the keys in Redis and the Lua
scripts of chat/lua/ that change them), batches.py (the queue of scripts a
node sends, one pipeline at a time), templates.py (the events the scripts
publish, built by chat/protocol.py, in pieces around what only Redis knows),
envelopes.py (what travels on the channel, checked on arrival), presence.py
(the online lists a node's pages were told, corrected after an outage),
supervision.py (loops restarted after any failure, warnings that cannot flood
the log), connection.py (Redis URLs with passwords and TLS, the check at
start, and passwords kept out of every message). The rules a cluster shares with one
process are chat/rules.py. docs/scaling.md tells the whole story.
"""

from chat.cluster.connection import check_redis, redact
from chat.cluster.hostkeys import settle_host_key
from chat.cluster.hub import RedisHub
from chat.cluster.scripts import CHANNEL, Scripts, room_key

__all__ = ["CHANNEL", "RedisHub", "Scripts", "check_redis", "redact", "room_key",
           "settle_host_key"]
