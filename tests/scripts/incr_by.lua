-- KEYS[1]: counter key; ARGV[1]: increment. Returns the new value and the key's type.
local v = redis.call('incrby', KEYS[1], ARGV[1])
return {v, redis.call('type', KEYS[1]).ok}
