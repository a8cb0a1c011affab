-- Free a nickname when its connection closes, unless another connection holds
-- it now (the same page took it over, through this node or another).
-- KEYS: online, rooms, this node's set
-- ARGV: channel, room, nickname key, holder (the connection), the leave, rooms and
--       hosts events in pieces (JSON lists)
-- Returns 1, or 0 when this connection holds nothing there.
local raw = redis.call("HGET", KEYS[1], ARGV[3])
if not raw then
  return 0
end
local entry = cjson.decode(raw)
if entry.holder ~= ARGV[4] then
  return 0
end
redis.call("SREM", KEYS[3], ARGV[2] .. "\n" .. ARGV[3])
remove_online(ARGV[1], KEYS[2], ARGV[2], ARGV[3], entry.nick,
  presence_templates(ARGV[5], ARGV[6], ARGV[7]))
return 1
