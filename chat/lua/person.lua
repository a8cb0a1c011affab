-- Read who holds a nickname in a room now, and whether their page was made host there.
-- KEYS: online, the room's state
-- ARGV: nickname key
-- Returns {online entry JSON, 1 if made host else 0}, or {} when nobody holds it.
local raw = redis.call("HGET", KEYS[1], ARGV[1])
if not raw then
  return {}
end
local session = cjson.decode(raw).session or ""
local made = session ~= "" and redis.call("HEXISTS", KEYS[2], "op:" .. session) or 0
return {raw, made}
