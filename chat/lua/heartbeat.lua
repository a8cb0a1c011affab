-- Mark this node alive; let go of the people of nodes that are gone: silent for
-- too long, or no longer listed at all (a node that stopped without freeing them).
-- KEYS: nodes, rooms, known nodes
-- ARGV: channel, node, timeout in ms, the leave, rooms and hosts events in pieces (JSON
--       lists)
-- Returns 1, or 0 when this node was not listed (its first beat, or it was
-- silent so long that its people were let go: they must join again).
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local known = redis.call("ZSCORE", KEYS[1], ARGV[2])
redis.call("ZADD", KEYS[1], now, ARGV[2])
redis.call("SADD", KEYS[3], ARGV[2])
for _, dead in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now - tonumber(ARGV[3]))) do
  redis.call("SADD", KEYS[3], dead)  -- so the loop below frees its people
  redis.call("ZREM", KEYS[1], dead)
end
local templates = presence_templates(ARGV[4], ARGV[5], ARGV[6])
for _, node in ipairs(redis.call("SMEMBERS", KEYS[3])) do
  if not redis.call("ZSCORE", KEYS[1], node) then
    free_node(ARGV[1], KEYS[2], node, templates)
    redis.call("SREM", KEYS[3], node)
  end
end
if known then
  return 1
end
return 0
