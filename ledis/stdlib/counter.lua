#!lua name=counter
--[[
counter: idempotent increments and time-bucketed counters with rollup.

ctr_incr        KEYS: counter   ARGV: amount, [dedup_id], [dedup_ttl_ms=86400000]
                INCRBY that runs at most once per dedup_id while "<counter>:dedup:<id>"
                lives (retries of the same request do not count twice).
                -> {value, applied (1, or 0 for a duplicate)}                      O(1)
ctr_bucket_incr KEYS: series    ARGV: amount, bucket_s, [retention_s=0 (keep)], [ts_s=now]
                Adds amount to the bucket of bucket_s seconds holding ts_s, in the hash
                "<series>:<bucket_s>" (field = bucket start, unix seconds); buckets older
                than retention_s are dropped on the way.        -> bucket value    O(1) + dropped
ctr_rollup      KEYS: series    ARGV: bucket_s, from_s, to_s   (read-only)
                -> {sum, bucket_start, value, ...} of buckets starting in [from_s, to_s]
                                                                            O(buckets in hash)
Amounts are integers.

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/counter.lua
--]]

local function int(v, default, what)
  if v == nil or v == '' then
    if default ~= nil then return default end
    error({err = 'ERR counter: ' .. what .. ' is required'})
  end
  local n = tonumber(v)
  if not n or n % 1 ~= 0 then
    error({err = 'ERR counter: ' .. what .. ' must be an integer'})
  end
  return n
end

local function now_s()
  return tonumber(redis.call('TIME')[1])
end

local function incr(keys, args)
  local amount = int(args[1], nil, 'amount')
  local id = args[2]
  if id and id ~= '' then
    local ttl = int(args[3], 86400000, 'dedup_ttl_ms')
    if ttl <= 0 then error({err = 'ERR counter: dedup_ttl_ms must be positive'}) end
    local fresh = redis.call('SET', keys[1] .. ':dedup:' .. id, '1', 'NX', 'PX', ttl)
    if not fresh then
      return {tonumber(redis.call('GET', keys[1]) or '0'), 0}
    end
  end
  return {redis.call('INCRBY', keys[1], amount), 1}
end

local function bucket_incr(keys, args)
  local amount = int(args[1], nil, 'amount')
  local size = int(args[2], nil, 'bucket_s')
  if size <= 0 then error({err = 'ERR counter: bucket_s must be positive'}) end
  local retention = int(args[3], 0, 'retention_s')
  local ts = int(args[4], now_s(), 'ts_s')
  local hash = keys[1] .. ':' .. size
  local start = ts - ts % size
  local value = redis.call('HINCRBY', hash, start, amount)
  if retention > 0 then
    local oldest = ts - retention
    local fields = redis.call('HKEYS', hash)
    local old = {}
    for _, f in ipairs(fields) do
      if tonumber(f) + size <= oldest then old[#old + 1] = f end
    end
    if #old > 0 then redis.call('HDEL', hash, unpack(old)) end
  end
  return value
end

local function rollup(keys, args)
  local size = int(args[1], nil, 'bucket_s')
  local from, to = int(args[2], nil, 'from_s'), int(args[3], nil, 'to_s')
  local all = redis.call('HGETALL', keys[1] .. ':' .. size)
  local rows = {}
  for i = 1, #all, 2 do
    local start = tonumber(all[i])
    if start >= from and start <= to then rows[#rows + 1] = {start, tonumber(all[i + 1])} end
  end
  table.sort(rows, function(a, b) return a[1] < b[1] end)
  local sum, out = 0, {0}
  for _, row in ipairs(rows) do
    sum = sum + row[2]
    out[#out + 1] = row[1]
    out[#out + 1] = row[2]
  end
  out[1] = sum
  return out
end

redis.register_function{function_name = 'ctr_incr', callback = incr,
  description = 'idempotent INCRBY with a dedup id: {value, applied}'}
redis.register_function{function_name = 'ctr_bucket_incr', callback = bucket_incr,
  description = 'add to a time bucket'}
redis.register_function{function_name = 'ctr_rollup', callback = rollup, flags = {'no-writes'},
  description = 'sum of time buckets in a range: {sum, start, value, ...}'}
