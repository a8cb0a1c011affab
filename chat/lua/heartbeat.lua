-- Mark this node alive; let the people of nodes silent for too long leave.
-- KEYS: nodes, rooms
-- ARGV: channel, node, timeout in ms
-- Returns 1, or 0 when this node was not listed (its first beat, or it was
-- silent so long that its people were let go: they must join again).
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local known = redis.call("ZSCORE", KEYS[1], ARGV[2])
redis.call("ZADD", KEYS[1], now, ARGV[2])
for _, dead in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now - tonumber(ARGV[3]))) do
  local held = "chat:node:" .. dead
  for _, member in ipairs(redis.call("SMEMBERS", held)) do
    local room, folded = string.match(member, "^(.-)\n(.*)$")
    local holder = redis.call("HGET", "chat:{" .. room .. "}:online", folded)
    if holder and cjson.decode(holder).node == dead then
      remove_online(ARGV[1], KEYS[2], room, folded, cjson.decode(holder).nick)
    end
  end
  redis.call("DEL", held)
  redis.call("ZREM", KEYS[1], dead)
end
if known then
  return 1
end
return 0
