-- Shared by every script below (chat/cluster/scripts.py puts this text in front of each).
-- Keys: chat:{ROOM}:next (last id), chat:{ROOM}:history (sorted set, score = id),
-- chat:{ROOM}:authors (sorted set beside it: "ID AUTHOR", score = id),
-- chat:{ROOM}:online (hash: nickname key -> entry JSON: nick, node, holder, session,
-- address, seq, and keyed once it presented the host key), chat:{ROOM}:state (hash:
-- the room's standing fields, JSON values), chat:{ROOM}:hosts (the hosts the room was
-- last told, a JSON list), chat:state (the server's fields: bans, host:SESSION, the
-- host key), chat:rooms (set of rooms with people online), chat:nodes (sorted set:
-- node -> last heartbeat, ms), chat:nodes:known (set of every node that may hold
-- entries), chat:node:NODE (set of "ROOM\nNICK KEY" that node's people hold).
-- Every event goes to one channel as {"room": ROOM or null, "event": {...}}
-- (chat/cluster/envelopes.py lists every shape and refuses any other).
--
-- No script writes an event of its own: the node sends each one built by
-- chat/protocol.py, whole or in pieces cut where a value only the script knows
-- goes (chat/cluster/templates.py), and the script fills in just that value.

local function publish(channel, room_json, event_json)
  redis.call("PUBLISH", channel, '{"room":' .. room_json .. ',"event":' .. event_json .. '}')
end

-- An event from its pieces with a value between each two: a number, or JSON text.
local function fill(pieces, ...)
  local values, parts = {...}, {}
  for i, piece in ipairs(pieces) do
    parts[#parts + 1] = piece
    local value = values[i]
    if type(value) == "number" then
      value = string.format("%d", value)  -- never 1e+14: tostring keeps 14 digits
    end
    parts[#parts + 1] = value
  end
  return table.concat(parts)
end

-- Names as a JSON list, written by hand: cjson writes an empty table as {}.
local function json_list(names)
  local quoted = {}
  for i, name in ipairs(names) do
    quoted[i] = cjson.encode(name)
  end
  return "[" .. table.concat(quoted, ",") .. "]"
end

-- `templates` holds the pieces of the leave, rooms and hosts events (cjson-decoded lists).
local function publish_rooms(channel, rooms_key, templates)
  local names = redis.call("SMEMBERS", rooms_key)
  table.sort(names)
  publish(channel, "null", fill(templates.rooms, json_list(names)))
end

-- The online entries of a room, in the order they arrived.
local function arrivals(online_key)
  local entries = {}
  for i, raw in ipairs(redis.call("HVALS", online_key)) do
    entries[i] = cjson.decode(raw)
  end
  table.sort(entries, function(a, b) return a.seq < b.seq end)
  return entries
end

-- The nicknames online in a room, in the order they arrived, as a JSON array
-- (`entries`: arrivals(online_key), if the caller has them already).
local function online_json(online_key, entries)
  local names = {}
  for i, entry in ipairs(entries or arrivals(online_key)) do
    names[i] = entry.nick
  end
  return json_list(names)
end

-- Whether an online entry is a host: its connection presented the key, or its page was
-- made host in the room (an op:SESSION field of the room's state).
local function is_host(entry, state_key)
  local session = entry.session or ""
  return entry.keyed == true
    or (session ~= "" and redis.call("HEXISTS", state_key, "op:" .. session) == 1)
end

-- The hosts online in a room, in the order they arrived, as a JSON array (`entries`:
-- the room's arrivals, if the caller has them already).
local function hosts_json(room, entries)
  local names = {}
  for _, entry in ipairs(entries or arrivals("chat:{" .. room .. "}:online")) do
    if is_host(entry, "chat:{" .. room .. "}:state") then
      names[#names + 1] = entry.nick
    end
  end
  return json_list(names)
end

-- Tell the room its hosts (the hosts event in pieces around the list), unless that is
-- what it was last told.
local function announce_hosts(channel, room, pieces)
  local hosts, shown_key = hosts_json(room), "chat:{" .. room .. "}:hosts"
  if hosts ~= (redis.call("GET", shown_key) or "[]") then
    redis.call("SET", shown_key, hosts)
    publish(channel, cjson.encode(room), fill(pieces, hosts))
  end
end

-- Whether `nick` is among the hosts the room was last told.
local function shown_host(room, nick)
  local shown = redis.call("GET", "chat:{" .. room .. "}:hosts")
  for _, name in ipairs(shown and cjson.decode(shown) or {}) do
    if name == nick then
      return true
    end
  end
  return false
end

-- Take a nickname out of a room's online list; say so, and say if the room emptied.
local function remove_online(channel, rooms_key, room, folded, nick, templates)
  local online_key = "chat:{" .. room .. "}:online"
  redis.call("HDEL", online_key, folded)
  local online = redis.call("HLEN", online_key)
  publish(channel, cjson.encode(room), fill(templates.leave, cjson.encode(nick), online))
  if shown_host(room, nick) then
    announce_hosts(channel, room, templates.hosts)
  end
  if online == 0 then
    redis.call("DEL", "chat:{" .. room .. "}:hosts")  -- the next to come were told nothing
    redis.call("SREM", rooms_key, room)
    publish_rooms(channel, rooms_key, templates)
  end
end

-- Let go of every nickname a node holds (it stopped, or went silent); return how many.
local function free_node(channel, rooms_key, node, templates)
  local held = "chat:node:" .. node
  local freed = 0
  for _, member in ipairs(redis.call("SMEMBERS", held)) do
    local room, folded = string.match(member, "^(.-)\n(.*)$")
    local raw = redis.call("HGET", "chat:{" .. room .. "}:online", folded)
    if raw and cjson.decode(raw).node == node then  -- not taken over through another node
      remove_online(channel, rooms_key, room, folded, cjson.decode(raw).nick, templates)
      freed = freed + 1
    end
  end
  redis.call("DEL", held)
  return freed
end

-- The leave, rooms and hosts templates, from three arguments (JSON lists of pieces).
local function presence_templates(leave_pieces, rooms_pieces, hosts_pieces)
  return {leave = cjson.decode(leave_pieces), rooms = cjson.decode(rooms_pieces),
    hosts = cjson.decode(hosts_pieces)}
end
