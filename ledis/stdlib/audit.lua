#!lua name=audit
--[[
audit: every change of the keys under watched prefixes appended to a capped stream, by a
keyspace trigger (ledis only: redis.register_trigger).

The trigger runs in the same atomic unit and write batch as the write it records (SET, HSET,
DEL, EXPIRE, expiry, a command in MULTI, an EVAL or FCALL...), so a change and its audit
entry reach the database together or not at all, even across a crash. A write whose entry
cannot be appended fails (on_error = 'abort'): nothing changes unaudited.

Each entry has the fields
  event  the keyspace-notification name (set, hset, del, expire, expired, incrby, ...)
  key    the key
  type   its type after the change (none once deleted or expired)
  value  strings: the value (GET) when at most VALUE_CAP bytes;
         hashes: the whole hash as a JSON object (cjson) when at most HASH_CAP fields and
         VALUE_CAP bytes of values; absent otherwise, and for other types
  ttl_ms on expire / pexpire / expireat events: the key's PTTL after the change
A script's writes are recorded when it returns, so its entries show its final values.

Watches live per database in the hash audit:watches (prefix -> stream .. "\0" .. maxlen).
The trigger listens to every key ('*'): each write anywhere runs it (one HGETALL of that
hash, cheap while it is small); narrow KEYS_PATTERN below to your prefixes if the server has
many unrelated writes (copy the file and edit the line). The watch hash and every audit
stream are never audited themselves (no entry about an entry).

audit_watch   KEYS: none   ARGV: prefix, stream, [maxlen=1000]
              Audit the keys "<prefix>*" into the stream (again: change stream or maxlen).
              Entries are added with XADD MAXLEN ~ maxlen (ledis trims exactly).
              -> number of watched prefixes                                          O(1)
audit_unwatch KEYS: none   ARGV: prefix      -> 1, or 0 if not watched (the stream stays) O(1)
audit_watches KEYS: none   ARGV: none  (read-only)
              -> {prefix, stream, maxlen, prefix, stream, maxlen, ...} sorted by prefix   O(N)
audit_tail    KEYS: stream ARGV: [count=10]  (read-only)
              -> the last count entries, oldest first, as XRANGE replies them  O(count)

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/audit.lua
--]]

local KEYS_PATTERN = '*'
local WATCHES = 'audit:watches'
local VALUE_CAP = 512   -- bytes of a value copied into an entry
local HASH_CAP = 16     -- fields of a hash copied into an entry
local TTL_EVENTS = {expire = true, pexpire = true, expireat = true, pexpireat = true}

local function split(spec)
  local sep = string.find(spec, '\0', 1, true)
  return string.sub(spec, 1, sep - 1), tonumber(string.sub(spec, sep + 1))
end

local function int(v, default, what)
  if v == nil or v == '' then return default end
  local n = tonumber(v)
  if not n or n % 1 ~= 0 or n < 1 then
    error({err = 'ERR audit: ' .. what .. ' must be a positive integer'})
  end
  return n
end

-- The value part of an entry, or nil when it would not be cheap.
local function value_of(key, kind)
  if kind == 'string' then
    if redis.call('STRLEN', key) <= VALUE_CAP then return redis.call('GET', key) end
  elseif kind == 'hash' then
    if redis.call('HLEN', key) > HASH_CAP then return nil end
    local flat, map, size = redis.call('HGETALL', key), {}, 0
    for i = 1, #flat, 2 do
      map[flat[i]] = flat[i + 1]
      size = size + #flat[i + 1]
    end
    if size <= VALUE_CAP then return cjson.encode(map) end
  end
  return nil
end

local function record(event, key)
  if key == WATCHES then return end
  local watches = redis.call('HGETALL', WATCHES)
  if #watches == 0 then return end
  -- A key that is an audit stream is never audited: its own XADD would record itself.
  for i = 2, #watches, 2 do
    if split(watches[i]) == key then return end
  end
  local kind
  for i = 1, #watches, 2 do
    local prefix = watches[i]
    if string.sub(key, 1, #prefix) == prefix then
      local stream, maxlen = split(watches[i + 1])
      kind = kind or redis.call('TYPE', key).ok
      local entry = {'event', event, 'key', key, 'type', kind}
      local value = value_of(key, kind)
      if value then
        entry[#entry + 1] = 'value'
        entry[#entry + 1] = value
      end
      if TTL_EVENTS[event] then
        entry[#entry + 1] = 'ttl_ms'
        entry[#entry + 1] = redis.call('PTTL', key)
      end
      redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(entry))
    end
  end
end

local function watch(keys, args)
  local prefix, stream = args[1], args[2]
  if not prefix or prefix == '' or not stream or stream == '' then
    error({err = 'ERR audit: usage audit_watch prefix stream [maxlen] (not empty)'})
  end
  if stream == WATCHES then
    error({err = 'ERR audit: the stream cannot be ' .. WATCHES})
  end
  local maxlen = int(args[3], 1000, 'maxlen')
  local kind = redis.call('TYPE', stream).ok
  if kind ~= 'none' and kind ~= 'stream' then
    error({err = 'ERR audit: ' .. stream .. ' holds a ' .. kind .. ', not a stream'})
  end
  redis.call('HSET', WATCHES, prefix, stream .. '\0' .. maxlen)
  return redis.call('HLEN', WATCHES)
end

local function unwatch(keys, args)
  if not args[1] then error({err = 'ERR audit: prefix is required'}) end
  return redis.call('HDEL', WATCHES, args[1])
end

local function watches(keys, args)
  local flat, prefixes, specs = redis.call('HGETALL', WATCHES), {}, {}
  for i = 1, #flat, 2 do
    prefixes[#prefixes + 1] = flat[i]
    specs[flat[i]] = flat[i + 1]
  end
  table.sort(prefixes)
  local out = {}
  for _, prefix in ipairs(prefixes) do
    local stream, maxlen = split(specs[prefix])
    out[#out + 1] = prefix
    out[#out + 1] = stream
    out[#out + 1] = maxlen
  end
  return out
end

local function tail(keys, args)
  if not keys[1] then error({err = 'ERR audit: usage audit_tail 1 stream [count]'}) end
  local newest = redis.call('XREVRANGE', keys[1], '+', '-', 'COUNT', int(args[1], 10, 'count'))
  local out = {}
  for i = #newest, 1, -1 do out[#out + 1] = newest[i] end
  return out
end

redis.register_trigger{name = 'audit_record', keys = KEYS_PATTERN, callback = record}
redis.register_function('audit_watch', watch)
redis.register_function('audit_unwatch', unwatch)
redis.register_function{function_name = 'audit_watches', callback = watches,
                        flags = {'no-writes'}}
redis.register_function{function_name = 'audit_tail', callback = tail, flags = {'no-writes'}}
