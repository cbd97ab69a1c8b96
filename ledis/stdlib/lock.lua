#!lua name=lock
--[[
lock: distributed mutex with expiry and fencing tokens.

A lock is a hash at KEYS[1] {owner=<id>, token=<n>} with a TTL. Each successful acquisition
of a free lock gets a new fencing token from a counter that outlives the lock (KEYS[2], or
"<KEYS[1]>:fence" when not given): tokens only grow, so a resource can refuse writes carrying a
token older than the last one it saw (a paused client whose lock expired cannot do damage).
Re-acquiring by the current owner refreshes the TTL and keeps its token.

lock_acquire   KEYS: lock [, fence]   ARGV: owner, ttl_ms
               -> token (integer >= 1) when acquired, nil when held by another owner.  O(1)
lock_release   KEYS: lock             ARGV: owner, token
               -> 1 released, 0 not held by this owner/token (expired, or taken over).  O(1)
lock_extend    KEYS: lock             ARGV: owner, token, ttl_ms
               -> 1 extended (TTL set to ttl_ms), 0 not held by this owner/token.       O(1)
lock_owner     KEYS: lock             ARGV: -    (read-only)
               -> {owner, token, pttl_ms} or nil when free.                             O(1)

Errors: ttl_ms must be a positive integer ("ERR lock: ttl_ms must be a positive integer").
Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/lock.lua
--]]

local function positive_int(v, what)
  local n = tonumber(v)
  if not n or n <= 0 or n % 1 ~= 0 then
    error({err = 'ERR lock: ' .. what .. ' must be a positive integer'})
  end
  return n
end

local function owner_arg(v)
  if v == nil or v == '' then error({err = 'ERR lock: owner must not be empty'}) end
  return v
end

local function acquire(keys, args)
  local lock = keys[1]
  local fence = keys[2] or (lock .. ':fence')
  local owner = owner_arg(args[1])
  local ttl = positive_int(args[2], 'ttl_ms')
  local held = redis.call('HMGET', lock, 'owner', 'token')
  if held[1] then
    if held[1] ~= owner then return nil end
    redis.call('PEXPIRE', lock, ttl)
    return tonumber(held[2])
  end
  local token = redis.call('INCR', fence)
  redis.call('HSET', lock, 'owner', owner, 'token', token)
  redis.call('PEXPIRE', lock, ttl)
  return token
end

local function holds(lock, owner, token)
  local held = redis.call('HMGET', lock, 'owner', 'token')
  return held[1] ~= nil and held[1] == owner and held[2] == tostring(token)
end

local function release(keys, args)
  if not holds(keys[1], owner_arg(args[1]), args[2]) then return 0 end
  redis.call('DEL', keys[1])
  return 1
end

local function extend(keys, args)
  local ttl = positive_int(args[3], 'ttl_ms')
  if not holds(keys[1], owner_arg(args[1]), args[2]) then return 0 end
  redis.call('PEXPIRE', keys[1], ttl)
  return 1
end

local function owner(keys, args)
  local held = redis.call('HMGET', keys[1], 'owner', 'token')
  if not held[1] then return nil end
  return {held[1], tonumber(held[2]), redis.call('PTTL', keys[1])}
end

redis.register_function{function_name = 'lock_acquire', callback = acquire,
  description = 'acquire a lock with a TTL; returns a fencing token or nil'}
redis.register_function{function_name = 'lock_release', callback = release,
  description = 'release a lock held by owner/token'}
redis.register_function{function_name = 'lock_extend', callback = extend,
  description = 'extend the TTL of a lock held by owner/token'}
redis.register_function{function_name = 'lock_owner', callback = owner, flags = {'no-writes'},
  description = 'owner, token and remaining TTL of a lock'}
