#!lua name=user_index
-- A keyspace trigger (ledis only): every `user:*` hash with an `email` field is indexed by
-- that email, in the same atomic write as the HSET / HDEL / DEL / expiry / RENAME that changed
-- it, so the index never disagrees with the users, not even after a crash.
--   redis-cli -x FUNCTION LOAD REPLACE < examples/lua/user_index.lua
--   HSET user:1 name ann email ann@example.com
--   FCALL_RO user_by_email 0 ann@example.com   -> the user keys with that email, sorted
-- Layout: email:<address> (set of user keys), email:of (hash: user key -> its indexed email).
-- Users added before the library was loaded are indexed on their next write.

local function reindex(event, key)
  local old = redis.call('HGET', 'email:of', key)
  local new = false
  if redis.call('TYPE', key).ok == 'hash' then new = redis.call('HGET', key, 'email') end
  if old == new then return end
  if old then redis.call('SREM', 'email:' .. old, key) end
  if new then
    redis.call('SADD', 'email:' .. new, key)
    redis.call('HSET', 'email:of', key, new)
  else
    redis.call('HDEL', 'email:of', key)
  end
end

redis.register_trigger{name = 'email_index', keys = 'user:*', callback = reindex,
  events = {'hset', 'hdel', 'del', 'expired', 'rename_from', 'rename_to', 'restore'}}

redis.register_function{function_name = 'user_by_email', flags = {'no-writes'},
  callback = function(keys, args)
    local users = redis.call('SMEMBERS', 'email:' .. (args[1] or ''))
    table.sort(users)
    return users
  end}
