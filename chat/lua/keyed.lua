-- A connection presented the host key (the node checked it): mark its online entry
-- keyed, keep its page out of every bar (host:SESSION in the server's state), and
-- tell the room its hosts.
-- KEYS: online, the server's state
-- ARGV: channel, room, nickname key, holder (the connection), the hosts event in
--       pieces (JSON list)
-- Returns the hosts online now as a JSON list (the presenter's answer), or "" when
-- nobody holds that nickname.
local raw = redis.call("HGET", KEYS[1], ARGV[3])
if not raw then
  return ""
end
local entry = cjson.decode(raw)
if entry.holder == ARGV[4] then
  entry.keyed = true
  redis.call("HSET", KEYS[1], ARGV[3], cjson.encode(entry))
end
if (entry.session or "") ~= "" then
  redis.call("HSET", KEYS[2], "host:" .. entry.session, "true")
end
announce_hosts(ARGV[1], ARGV[2], cjson.decode(ARGV[5]))
return hosts_json(ARGV[2])
