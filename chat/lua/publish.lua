-- Publish one event that nobody stores (a typing hint), in the batch with the rest.
-- ARGV: channel, the envelope's JSON
redis.call("PUBLISH", ARGV[1], ARGV[2])
return 1
