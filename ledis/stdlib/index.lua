#!lua name=index
--[[
index: secondary indexes kept by a keyspace trigger (ledis only: redis.register_trigger).

An index maps the value of one field of the hashes under a key prefix to the set of their
keys ("every user:* whose city is paris"). A trigger re-indexes a key whenever it is written
(hset, hdel, hincrby, del, expiry, rename...), in the same atomic unit and write batch as
the write, so the index never disagrees with the data, even after a crash.

Layout: idx:defs (hash: index name -> prefix .. "\0" .. field), idx:<name>:v:<value> (set of
keys), idx:<name>:rev (hash: key -> indexed value, so a change or a delete finds the old
set). Keys under idx: are never indexed. The trigger listens to every key ('*'): each hash
write runs it (one HGETALL of idx:defs); narrow KEYS_PATTERN below to your prefixes if the
server has many other writes.

idx_create  ARGV: name, key_prefix, field
            -> number of keys indexed (existing hashes are indexed now, by SCAN).  O(N)
idx_find    ARGV: name, value           (read-only) -> sorted keys with field = value
                                                                              O(M log M)
idx_count   ARGV: name, value           (read-only) -> number of such keys     O(1)
idx_drop    ARGV: name                  -> 1 dropped, 0 no such index          O(N)

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/index.lua
--]]

local KEYS_PATTERN = '*'
local DEFS = 'idx:defs'

local function value_set(name, value) return 'idx:' .. name .. ':v:' .. value end
local function rev_of(name) return 'idx:' .. name .. ':rev' end

local function split(spec)
  local sep = string.find(spec, '\0', 1, true)
  return string.sub(spec, 1, sep - 1), string.sub(spec, sep + 1)
end

-- Bring the index entry of one key up to date with its current field value.
local function reindex(name, field, key)
  local rev = rev_of(name)
  local old = redis.call('HGET', rev, key)
  local new = false
  if redis.call('TYPE', key).ok == 'hash' then new = redis.call('HGET', key, field) end
  if old == new then return 0 end
  if old then redis.call('SREM', value_set(name, old), key) end
  if new then
    redis.call('SADD', value_set(name, new), key)
    redis.call('HSET', rev, key, new)
  else
    redis.call('HDEL', rev, key)
  end
  return 1
end

local function on_write(event, key)
  if string.sub(key, 1, 4) == 'idx:' then return end
  local defs = redis.call('HGETALL', DEFS)
  for i = 1, #defs, 2 do
    local prefix, field = split(defs[i + 1])
    if string.sub(key, 1, #prefix) == prefix then reindex(defs[i], field, key) end
  end
end

local function check_name(name)
  if not name or name == '' or string.find(name, '[^%w_%-]') then
    error({err = 'ERR index: name must be letters, digits, _ or -'})
  end
end

local function create(keys, args)
  local name, prefix, field = args[1], args[2], args[3]
  check_name(name)
  if not prefix or prefix == '' or string.sub(prefix, 1, 4) == 'idx:' or not field then
    error({err = 'ERR index: usage idx_create name key_prefix field (prefix not empty, not idx:)'})
  end
  if redis.call('HEXISTS', DEFS, name) == 1 then
    error({err = 'ERR index: ' .. name .. ' already exists'})
  end
  redis.call('HSET', DEFS, name, prefix .. '\0' .. field)
  local cursor, n = '0', 0
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', prefix .. '*', 'COUNT', 500)
    cursor = page[1]
    for _, key in ipairs(page[2]) do n = n + reindex(name, field, key) end
  until cursor == '0'
  return n
end

local function find(keys, args)
  check_name(args[1])
  local members = redis.call('SMEMBERS', value_set(args[1], args[2] or ''))
  table.sort(members)
  return members
end

local function count(keys, args)
  check_name(args[1])
  return redis.call('SCARD', value_set(args[1], args[2] or ''))
end

local function drop(keys, args)
  local name = args[1]
  check_name(name)
  if redis.call('HDEL', DEFS, name) == 0 then return 0 end
  local rev = rev_of(name)
  local seen = {}
  for _, value in ipairs(redis.call('HVALS', rev)) do
    if not seen[value] then
      seen[value] = true
      redis.call('DEL', value_set(name, value))
    end
  end
  redis.call('DEL', rev)
  return 1
end

redis.register_trigger{name = 'idx_maintain', keys = KEYS_PATTERN, callback = on_write,
  events = {'hset', 'hdel', 'hincrby', 'hincrbyfloat', 'del', 'expired', 'rename_from',
            'rename_to', 'restore', 'move_from', 'copy_to', 'set'}}
redis.register_function('idx_create', create)
redis.register_function{function_name = 'idx_find', callback = find, flags = {'no-writes'}}
redis.register_function{function_name = 'idx_count', callback = count, flags = {'no-writes'}}
redis.register_function('idx_drop', drop)
