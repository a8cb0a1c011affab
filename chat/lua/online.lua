-- Read who is online in a room, in the order they arrived, as a JSON array
-- (a node corrects its pages' lists with it after an outage).
-- KEYS: online
return online_json(KEYS[1])
