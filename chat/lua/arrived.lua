-- Announce a newcomer who has had its welcome: a join (not when the same page
-- came back: nobody saw it leave), and the busy rooms when this room just opened.
-- KEYS: online, rooms
-- ARGV: channel, room as JSON, nickname as JSON, takeover ("1" or "0")
local online = redis.call("HLEN", KEYS[1])
if ARGV[4] == "0" then
  publish(ARGV[1], ARGV[2], '{"type":"join","nick":' .. ARGV[3] .. ',"online":' .. online .. '}')
end
if online == 1 then
  publish_rooms(ARGV[1], KEYS[2])
end
return online
