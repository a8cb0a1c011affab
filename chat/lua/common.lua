-- Shared by every script below (chat/cluster/scripts.py puts this text in front of each).
-- Keys: chat:{ROOM}:next (last id), chat:{ROOM}:history (sorted set, score = id),
-- chat:{ROOM}:online (hash: nickname key -> entry JSON: nick, node, holder, session,
-- seq), chat:rooms (set of rooms with people online), chat:nodes (sorted set:
-- node -> last heartbeat, ms), chat:nodes:known (set of every node that may hold
-- entries), chat:node:NODE (set of "ROOM\nNICK KEY" that node's people hold).
-- Every event goes to one channel as {"room": ROOM or null, "event": {...}}
-- (chat/cluster/envelopes.py lists every shape and refuses any other).

local function publish(channel, room_json, event_json)
  redis.call("PUBLISH", channel, '{"room":' .. room_json .. ',"event":' .. event_json .. '}')
end

local function publish_rooms(channel, rooms_key)
  local names = redis.call("SMEMBERS", rooms_key)
  table.sort(names)
  local quoted = {}
  for i, name in ipairs(names) do
    quoted[i] = cjson.encode(name)
  end
  publish(channel, "null", '{"type":"rooms","rooms":[' .. table.concat(quoted, ",") .. ']}')
end

-- The nicknames online in a room, in the order they arrived, as a JSON array.
local function online_json(online_key)
  local entries = {}
  for i, raw in ipairs(redis.call("HVALS", online_key)) do
    entries[i] = cjson.decode(raw)
  end
  table.sort(entries, function(a, b) return a.seq < b.seq end)
  local names = {}
  for i, entry in ipairs(entries) do
    names[i] = cjson.encode(entry.nick)
  end
  return "[" .. table.concat(names, ",") .. "]"
end

-- Take a nickname out of a room's online list; say so, and say if the room emptied.
local function remove_online(channel, rooms_key, room, folded, nick)
  local online_key = "chat:{" .. room .. "}:online"
  redis.call("HDEL", online_key, folded)
  local online = redis.call("HLEN", online_key)
  publish(channel, cjson.encode(room),
    '{"type":"leave","nick":' .. cjson.encode(nick) .. ',"online":' .. online .. '}')
  if online == 0 then
    redis.call("SREM", rooms_key, room)
    publish_rooms(channel, rooms_key)
  end
end

-- Let go of every nickname a node holds (it stopped, or went silent); return how many.
local function free_node(channel, rooms_key, node)
  local held = "chat:node:" .. node
  local freed = 0
  for _, member in ipairs(redis.call("SMEMBERS", held)) do
    local room, folded = string.match(member, "^(.-)\n(.*)$")
    local raw = redis.call("HGET", "chat:{" .. room .. "}:online", folded)
    if raw and cjson.decode(raw).node == node then  -- not taken over through another node
      remove_online(channel, rooms_key, room, folded, cjson.decode(raw).nick)
      freed = freed + 1
    end
  end
  redis.call("DEL", held)
  return freed
end
