-- Free a nickname when its connection closes, unless the page took it over
-- through another node meanwhile.
-- KEYS: online, rooms, this node's set
-- ARGV: channel, room, nickname key, node
local holder = redis.call("HGET", KEYS[1], ARGV[3])
if not holder then
  return 0
end
local entry = cjson.decode(holder)
if entry.node ~= ARGV[4] then
  return 0
end
redis.call("SREM", KEYS[3], ARGV[2] .. "\n" .. ARGV[3])
remove_online(ARGV[1], KEYS[2], ARGV[2], ARGV[3], entry.nick)
return 1
