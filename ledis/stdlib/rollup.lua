#!lua name=rollup
--[[
rollup: a scheduled function (ledis timers) that once a minute moves counters whose names
start with a watched prefix into per-counter time series of one-minute buckets, and resets
them. Clients keep doing plain INCR/INCRBY on "<prefix>..." keys; the series answer "how many
per minute".

rollup_watch   KEYS: none     ARGV: prefix, [retention_s=86400]
               Watch the counters "<prefix>*" (again: change the retention).
               -> number of watched prefixes                                        O(1)
rollup_unwatch KEYS: none     ARGV: prefix                  -> 1, or 0 if not watched  O(1)
rollup_run     KEYS: none     ARGV: [ts_s=now]
               One rollup now, what the timer does each minute: every string key
               "<prefix>..." holding an integer is read and deleted (GETDEL) and its value
               added to the bucket of the minute holding ts_s in the sorted set
               "rollup:<key>" (score = minute start in unix seconds, member
               "<minute>:<total>"); buckets older than the retention are dropped.
               Keys that are not integer strings are left alone.
               -> number of counters rolled up                     O(matching keys + SCAN)
rollup_series  KEYS: counter  ARGV: from_s, to_s   (read-only)
               -> {minute, total, minute, total, ...} of the buckets starting in [from_s, to_s]
                                                                            O(log n + buckets)

Schedule: SCHEDULE below, the redis.register_timer argument (a ledis extension: this
library does not load on Redis). A different period: load a copy with e.g.
SCHEDULE = {every = '10s'} (buckets stay one minute).
The run is atomic: a counter is never counted twice nor lost between INCR and the rollup.
Keys under "rollup:" are never rolled up themselves.

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/rollup.lua
--]]

local SCHEDULE = {cron = '* * * * *'}
local BUCKET_S = 60
local WATCHED = 'rollup:prefixes'  -- hash: prefix -> retention_s

local function int(v, default, what)
  if v == nil or v == '' then
    if default ~= nil then return default end
    error({err = 'ERR rollup: ' .. what .. ' is required'})
  end
  local n = tonumber(v)
  if not n or n % 1 ~= 0 or n < 0 then
    error({err = 'ERR rollup: ' .. what .. ' must be a non-negative integer'})
  end
  return n
end

local function glob_escape(s)
  return (string.gsub(s, '([%*%?%[%]\\])', '\\%1'))
end

local function add_to_bucket(series, minute, value)
  local old = redis.call('ZRANGEBYSCORE', series, minute, minute)
  local total = value
  for _, member in ipairs(old) do
    total = total + tonumber(string.match(member, ':(%-?%d+)$'))
    redis.call('ZREM', series, member)
  end
  redis.call('ZADD', series, minute, minute .. ':' .. total)
end

local function run_once(ts)
  local minute = ts - ts % BUCKET_S
  local rolled = 0
  local watched = redis.call('HGETALL', WATCHED)
  for i = 1, #watched, 2 do
    local prefix, retention = watched[i], tonumber(watched[i + 1])
    local pattern = glob_escape(prefix) .. '*'
    local cursor = '0'
    repeat
      local page = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 200)
      cursor = page[1]
      for _, key in ipairs(page[2]) do
        if string.sub(key, 1, 7) ~= 'rollup:' then
          local t = redis.call('TYPE', key)['ok']
          local value = t == 'string' and tonumber(redis.call('GET', key)) or nil
          if value and value % 1 == 0 then
            redis.call('DEL', key)
            local series = 'rollup:' .. key
            add_to_bucket(series, minute, value)
            if retention > 0 then
              redis.call('ZREMRANGEBYSCORE', series, '-inf', '(' .. (minute - retention))
            end
            rolled = rolled + 1
          end
        end
      end
    until cursor == '0'
  end
  return rolled
end

local function now_s()
  return tonumber(redis.call('TIME')[1])
end

redis.register_function('rollup_watch', function(keys, args)
  if args[1] == nil or args[1] == '' then
    error({err = 'ERR rollup: prefix is required'})
  end
  local retention = int(args[2], 86400, 'retention_s')
  redis.call('HSET', WATCHED, args[1], retention)
  return redis.call('HLEN', WATCHED)
end)

redis.register_function('rollup_unwatch', function(keys, args)
  if args[1] == nil then error({err = 'ERR rollup: prefix is required'}) end
  return redis.call('HDEL', WATCHED, args[1])
end)

redis.register_function('rollup_run', function(keys, args)
  return run_once(int(args[1], now_s(), 'ts_s'))
end)

redis.register_function{function_name = 'rollup_series', flags = {'no-writes'},
  callback = function(keys, args)
    local from, to = int(args[1], nil, 'from_s'), int(args[2], nil, 'to_s')
    local out = {}
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', 'rollup:' .. keys[1], from, to)) do
      local minute, total = string.match(member, '^(%d+):(%-?%d+)$')
      out[#out + 1] = tonumber(minute)
      out[#out + 1] = tonumber(total)
    end
    return out
  end}

-- The timer (ledis only: Redis has no redis.register_timer, so this library is ledis's).
redis.register_timer{name = 'rollup', every = SCHEDULE.every, cron = SCHEDULE.cron,
                     callback = function() run_once(now_s()) end}
