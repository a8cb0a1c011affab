-- Announce a newcomer who has had its welcome (not the same page coming back:
-- nobody saw it leave, so the node does not call this).
-- KEYS: online
-- ARGV: channel, room as JSON, the join event cut at its count (JSON list of pieces)
local online = redis.call("HLEN", KEYS[1])
publish(ARGV[1], ARGV[2], fill(cjson.decode(ARGV[3]), online))
return online
