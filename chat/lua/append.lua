-- Append one entry to a room's log in one atomic step, with its effects: the next
-- id, the entries it erases, the entry and its author, the history trimmed to the
-- cap, the room's and the server's fields it sets, the ref (for de-duplication),
-- then PUBLISH, and the hosts if it made or unmade one. So ids increase by one
-- across the cluster, every node hears each room's log in id order, and no node
-- ever sees an entry without its effects. Every kind of entry comes here alike.
-- KEYS: next id, history, ref key (the next-id key again when there is no ref), the
--       room's state, the server's state, authors
-- ARGV: channel, room as JSON, the entry's JSON before its id and after it (the
--       node builds it all but the id: chat/cluster/templates.py says why), ref
--       ("" = none), history cap, seconds a ref is remembered, author ("" = none),
--       1 to erase every entry before this one (a clear) else 0, the hosts event
--       in pieces (a JSON list; "" when no host changes), how many ids to erase,
--       those ids, then triples: "room" or "server", a field, its JSON value
--       ("" removes the field)
-- Returns {id, 1}, or {first id, 0} for a ref already stored.
local ref = ARGV[5]
if ref ~= "" then
  local first = redis.call("GET", KEYS[3])
  if first then
    return {tonumber(first), 0}
  end
end
local id = redis.call("INCR", KEYS[1])
local erasing = tonumber(ARGV[11])
for i = 12, 11 + erasing do
  redis.call("ZREMRANGEBYSCORE", KEYS[2], ARGV[i], ARGV[i])
  redis.call("ZREMRANGEBYSCORE", KEYS[6], ARGV[i], ARGV[i])
end
if ARGV[9] == "1" then
  redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", "(" .. id)
  redis.call("ZREMRANGEBYSCORE", KEYS[6], "-inf", "(" .. id)
end
local entry = fill({ARGV[3], ARGV[4]}, id)
redis.call("ZADD", KEYS[2], id, entry)
if ARGV[8] ~= "" then
  redis.call("ZADD", KEYS[6], id, id .. " " .. ARGV[8])
end
-- By id, not by rank: the cap counts ids, so an erased entry frees no room for an old one.
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", id - tonumber(ARGV[6]))
redis.call("ZREMRANGEBYSCORE", KEYS[6], "-inf", id - tonumber(ARGV[6]))
for i = 12 + erasing, #ARGV, 3 do
  local fields = ARGV[i] == "server" and KEYS[5] or KEYS[4]
  if ARGV[i + 2] == "" then
    redis.call("HDEL", fields, ARGV[i + 1])
  else
    redis.call("HSET", fields, ARGV[i + 1], ARGV[i + 2])
  end
end
if ref ~= "" then
  redis.call("SET", KEYS[3], id, "EX", ARGV[7])
end
publish(ARGV[1], ARGV[2], entry)
if ARGV[10] ~= "" then
  announce_hosts(ARGV[1], cjson.decode(ARGV[2]), cjson.decode(ARGV[10]))
end
return {id, 1}
