-- A node stops: let go of every nickname it holds, whether or not its client
-- answered the close, and leave the node list. Returns how many were let go.
-- KEYS: nodes, rooms, known nodes
-- ARGV: channel, node, the leave, rooms and hosts events in pieces (JSON lists)
local freed = free_node(ARGV[1], KEYS[2], ARGV[2],
  presence_templates(ARGV[3], ARGV[4], ARGV[5]))
redis.call("ZREM", KEYS[1], ARGV[2])
redis.call("SREM", KEYS[3], ARGV[2])
return freed
