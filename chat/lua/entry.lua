-- Read one entry of a room's log and its author (the digest of its page's session).
-- KEYS: history, authors
-- ARGV: the entry's id
-- Returns {entry JSON, author ("" = none)}, or {} when the log does not keep it.
local found = redis.call("ZRANGEBYSCORE", KEYS[1], ARGV[1], ARGV[1])
if not found[1] then
  return {}
end
local author = redis.call("ZRANGEBYSCORE", KEYS[2], ARGV[1], ARGV[1])[1]
return {found[1], author and string.match(author, "^%d+ (.*)$") or ""}
