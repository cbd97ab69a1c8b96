#!lua name=cas
--[[
cas: versioned values with compare-and-set (optimistic concurrency without WATCH).

A value lives in the hash KEYS[1] {v = value, ver = version}; versions start at 1 and grow by
one at each successful write. Version 0 means "does not exist".

cas_get     KEYS: key   (read-only)              -> {value, version} or {false, 0}   O(1)
cas_set     KEYS: key   ARGV: expected_version, value
            -> new version, or {err} "CONFLICT current version is <n>" when the stored
               version differs (expected 0 = create only).                            O(1)
cas_delete  KEYS: key   ARGV: expected_version  -> 1 deleted, 0 conflict/missing       O(1)

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/cas.lua
--]]

local function version_of(key)
  return tonumber(redis.call('HGET', key, 'ver') or '0')
end

local function expected(v)
  local n = tonumber(v)
  if not n or n < 0 or n % 1 ~= 0 then
    error({err = 'ERR cas: expected_version must be a non-negative integer'})
  end
  return n
end

local function get(keys)
  local st = redis.call('HMGET', keys[1], 'v', 'ver')
  if not st[2] then return {false, 0} end
  return {st[1], tonumber(st[2])}
end

local function set(keys, args)
  local want = expected(args[1])
  if args[2] == nil then error({err = 'ERR cas: value is missing'}) end
  local current = version_of(keys[1])
  if current ~= want then
    return redis.error_reply('CONFLICT current version is ' .. current)
  end
  redis.call('HSET', keys[1], 'v', args[2], 'ver', current + 1)
  return current + 1
end

local function delete(keys, args)
  local want = expected(args[1])
  local current = version_of(keys[1])
  if current == 0 or current ~= want then return 0 end
  redis.call('DEL', keys[1])
  return 1
end

redis.register_function{function_name = 'cas_get', callback = get, flags = {'no-writes'},
  description = '{value, version}'}
redis.register_function{function_name = 'cas_set', callback = set,
  description = 'set if the version matches; returns the new version'}
redis.register_function{function_name = 'cas_delete', callback = delete,
  description = 'delete if the version matches'}
