-- Append one entry to a room's log in one atomic step: the next id, the capped
-- history, the ref (for de-duplication), then PUBLISH. So ids increase by one
-- across the cluster and every node hears each room's log in id order. Every
-- kind of entry (a message, and whatever later commands log) comes here alike.
-- KEYS: next id, history, ref key (the next-id key again when there is no ref)
-- ARGV: channel, room as JSON, the entry's JSON before its id and after it (the
--       node builds it all but the id: chat/cluster/templates.py says why), ref
--       ("" = none), history cap, seconds a ref is remembered
-- Returns {id, 1}, or {first id, 0} for a ref already stored.
local ref = ARGV[5]
if ref ~= "" then
  local first = redis.call("GET", KEYS[3])
  if first then
    return {tonumber(first), 0}
  end
end
local id = redis.call("INCR", KEYS[1])
local entry = fill({ARGV[3], ARGV[4]}, id)
redis.call("ZADD", KEYS[2], id, entry)
redis.call("ZREMRANGEBYRANK", KEYS[2], 0, -tonumber(ARGV[6]) - 1)
if ref ~= "" then
  redis.call("SET", KEYS[3], id, "EX", ARGV[7])
end
publish(ARGV[1], ARGV[2], entry)
return {id, 1}
