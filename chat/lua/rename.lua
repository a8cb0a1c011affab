-- Change a connection's nickname unless someone anywhere in the cluster holds
-- the new one; a host renamed, the room is told its hosts again.
-- KEYS: online, this node's set
-- ARGV: channel, room, old key, new key, new nickname, holder (the connection),
--       the nick event to publish (whole: the node knows both names), the hosts
--       event in pieces (JSON list)
-- Returns 1; 0 when the new one is taken; -1 when the old one is held by nobody
-- (let go while Redis was away); -2 when another connection holds it now.
local room = ARGV[2]
local raw = redis.call("HGET", KEYS[1], ARGV[3])
if not raw then
  return -1
end
local entry = cjson.decode(raw)
if entry.holder ~= ARGV[6] then
  return -2
end
if ARGV[3] ~= ARGV[4] and redis.call("HEXISTS", KEYS[1], ARGV[4]) == 1 then
  return 0
end
local old = entry.nick
entry.nick = ARGV[5]
redis.call("HDEL", KEYS[1], ARGV[3])
redis.call("HSET", KEYS[1], ARGV[4], cjson.encode(entry))
redis.call("SREM", KEYS[2], room .. "\n" .. ARGV[3])
redis.call("SADD", KEYS[2], room .. "\n" .. ARGV[4])
publish(ARGV[1], cjson.encode(room), ARGV[7])
if shown_host(room, old) then
  announce_hosts(ARGV[1], room, cjson.decode(ARGV[8]))
end
return 1
