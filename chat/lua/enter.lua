-- Let someone into a room and read its welcome in one atomic step: the first
-- free nickname among the candidates (or the wanted one back, for the page that
-- holds it under the same session), then the newest history or what came after
-- `since`, who is online, the hosts among them, which rooms are busy, and the
-- room's standing fields.
-- KEYS: online, next id, history, rooms, this node's set, arrival counter, known nodes,
--       the room's state
-- ARGV: node, session ("" = none), since (-1 = none), history size, resume limit,
--       room, channel, holder (the connection), the rooms event in pieces (JSON
--       list), address, then pairs of nickname key and nickname, wanted first
-- Returns {nick, takeover 0/1, newest id, then as JSON arrays: the history oldest
-- first, who is online in the order they came, the busy rooms sorted; then the
-- holder this one took over from ("" if none), the hosts online (a JSON array) and
-- the room's state (field, value, field, value...)}, or {} when every candidate is
-- taken.
local node, session, since, room, holder = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[6], ARGV[8]
local address = ARGV[10]
local nick, takeover, replaced = nil, 0, ""
redis.call("SADD", KEYS[7], node)  -- whatever this node holds, a sweep can find it
local raw = redis.call("HGET", KEYS[1], ARGV[11])
if raw and session ~= "" then
  local entry = cjson.decode(raw)
  if entry.session == session then  -- the same page, back through any node
    replaced = entry.holder or ""  -- "": an entry from before holders were recorded
    if entry.node ~= node then  -- that node closes the page's old connection (4001)
      redis.call("PUBLISH", ARGV[7], '{"room":' .. cjson.encode(room) .. ',"replaced":'
        .. cjson.encode(ARGV[11]) .. ',"node":' .. cjson.encode(entry.node)
        .. ',"holder":' .. cjson.encode(replaced) .. '}')
    end
    redis.call("SREM", "chat:node:" .. entry.node, room .. "\n" .. ARGV[11])
    -- The nickname keeps the form everyone has seen; the host key it presented
    -- was the old connection's, which the new one presents again.
    -- The host's badge stays: the page presents its key again right after the welcome.
    entry.node, entry.holder, entry.address = node, holder, address
    redis.call("HSET", KEYS[1], ARGV[11], cjson.encode(entry))
    redis.call("SADD", KEYS[5], room .. "\n" .. ARGV[11])
    nick, takeover = entry.nick, 1
  end
end
if not nick then
  for i = 11, #ARGV, 2 do
    if redis.call("HEXISTS", KEYS[1], ARGV[i]) == 0 then
      nick = ARGV[i + 1]
      local entry = {nick = nick, node = node, holder = holder, session = session,
        address = address, seq = redis.call("INCR", KEYS[6])}
      redis.call("HSET", KEYS[1], ARGV[i], cjson.encode(entry))
      redis.call("SADD", KEYS[5], room .. "\n" .. ARGV[i])
      if redis.call("SADD", KEYS[4], room) == 1 then  -- this one opened the room
        publish_rooms(ARGV[7], KEYS[4], {rooms = cjson.decode(ARGV[9])})
      end
      break
    end
  end
  if not nick then
    return {}
  end
end
local newest = tonumber(redis.call("GET", KEYS[2]) or "0")
local history = {}
-- Resume after `since` unless it is beyond the newest id (chat.rules.resumes: the
-- history was lost, the welcome says reset). The node decides the flags.
if since >= 0 and since <= newest then
  history = redis.call("ZREVRANGEBYSCORE", KEYS[3], "+inf", "(" .. since, "LIMIT", 0, ARGV[5])
elseif tonumber(ARGV[4]) > 0 then
  history = redis.call("ZREVRANGE", KEYS[3], 0, tonumber(ARGV[4]) - 1)
end
local oldest_first = {}
for i = #history, 1, -1 do
  oldest_first[#oldest_first + 1] = history[i]
end
local rooms = redis.call("SMEMBERS", KEYS[4])
table.sort(rooms)
local entries = arrivals(KEYS[1])
-- Lists go back as JSON text: one string for the node to parse, not thousands.
return {nick, takeover, newest, "[" .. table.concat(oldest_first, ",") .. "]",
  online_json(KEYS[1], entries), json_list(rooms), replaced, hosts_json(room, entries),
  redis.call("HGETALL", KEYS[8])}
