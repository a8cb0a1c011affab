-- Read the server's fields and, given a room, its newest id and its fields, in one
-- step: a node's copy of them, to judge its people's posts and commands by.
-- KEYS: the server's state, then (for a room) its next id and its state
-- Returns {the server's fields, the room's newest id (-1 without a room), the room's
-- fields}, each set of fields as field, value, field, value...
local room_fields, newest = {}, -1
if KEYS[2] then
  newest = tonumber(redis.call("GET", KEYS[2]) or "0")
  room_fields = redis.call("HGETALL", KEYS[3])
end
return {redis.call("HGETALL", KEYS[1]), newest, room_fields}
