-- Announce a newcomer who has had its welcome: its join (not for the same page
-- coming back: nobody saw it leave), then the hosts, if it is one (made host
-- earlier: the page is a host again).
-- KEYS: online, the room's state
-- ARGV: channel, room as JSON, the join event cut at its count (JSON list of pieces),
--       1 for the same page back (a takeover) else 0, the newcomer's nickname key,
--       the hosts event in pieces (JSON list)
local online = redis.call("HLEN", KEYS[1])
if ARGV[4] ~= "1" then
  publish(ARGV[1], ARGV[2], fill(cjson.decode(ARGV[3]), online))
end
local raw = redis.call("HGET", KEYS[1], ARGV[5])
if raw and is_host(cjson.decode(raw), KEYS[2]) then
  announce_hosts(ARGV[1], cjson.decode(ARGV[2]), cjson.decode(ARGV[6]))
end
return online
