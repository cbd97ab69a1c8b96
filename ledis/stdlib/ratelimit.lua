#!lua name=ratelimit
--[[
ratelimit: token bucket and sliding window rate limiters.

Both return {allowed, remaining, retry_after_ms}:
  allowed         1 when the request is admitted (its cost was taken), 0 when refused
  remaining       whole tokens / requests left after this call
  retry_after_ms  0 when allowed; otherwise how long until the same request could pass
Time comes from the server clock (TIME), so all clients share one clock. Keys expire by
themselves once idle long enough to be back to full capacity.

rl_bucket   KEYS: bucket   ARGV: capacity, refill_per_sec, [cost=1]
            Token bucket: holds up to `capacity` tokens, refilled continuously at
            `refill_per_sec` tokens per second (fractions allowed); a request takes `cost`.
            State: hash {tokens, ts}.                                                   O(1)
rl_window   KEYS: window   ARGV: limit, window_ms, [cost=1]
            Sliding log: at most `limit` requests (weighted by cost) in any `window_ms`
            span. State: a sorted set of request timestamps plus "<window>:seq" for unique
            members.                                       O(log N + M), M = entries expired
rl_peek     KEYS: bucket   ARGV: capacity, refill_per_sec   (read-only)
            Tokens a bucket would hold now, without taking any: {tokens, full_in_ms}.   O(1)

Errors: "ERR ratelimit: <arg> must be a positive number".
Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/ratelimit.lua
--]]

local function number(v, what, allow_zero)
  local n = tonumber(v)
  if not n or n ~= n or n == math.huge or n < 0 or (n == 0 and not allow_zero) then
    error({err = 'ERR ratelimit: ' .. what .. ' must be a positive number'})
  end
  return n
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function bucket_state(key, capacity, rate, now)
  local st = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens, ts = tonumber(st[1]), tonumber(st[2])
  if not tokens then return capacity end
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  return math.min(capacity, tokens + elapsed * rate / 1000)
end

local function bucket(keys, args)
  local capacity = number(args[1], 'capacity')
  local rate = number(args[2], 'refill_per_sec')
  local cost = number(args[3] or 1, 'cost', true)
  local now = now_ms()
  local tokens = bucket_state(keys[1], capacity, rate, now)
  local allowed, retry = 0, 0
  if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
  elseif cost > capacity then
    retry = -1   -- can never pass
  else
    retry = math.ceil((cost - tokens) * 1000 / rate)
  end
  redis.call('HSET', keys[1], 'tokens', string.format('%.6f', tokens), 'ts', now)
  redis.call('PEXPIRE', keys[1], math.max(1, math.ceil((capacity - tokens) * 1000 / rate)))
  return {allowed, math.floor(tokens + 1e-9), retry}
end

local function peek(keys, args)
  local capacity = number(args[1], 'capacity')
  local rate = number(args[2], 'refill_per_sec')
  local tokens = bucket_state(keys[1], capacity, rate, now_ms())
  return {math.floor(tokens + 1e-9), math.ceil((capacity - tokens) * 1000 / rate)}
end

local function window(keys, args)
  local key = keys[1]
  local limit = number(args[1], 'limit')
  local span = number(args[2], 'window_ms')
  local cost = number(args[3] or 1, 'cost', true)
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local used = redis.call('ZCARD', key)
  if used + cost > limit then
    local retry = -1
    if cost <= limit then
      -- the entry whose expiry frees enough room for this request
      local nth = redis.call('ZRANGE', key, used + cost - limit - 1, used + cost - limit - 1,
                             'WITHSCORES')
      retry = math.max(1, tonumber(nth[2]) + span - now + 1)
    end
    return {0, math.max(0, limit - used), retry}
  end
  if cost > 0 then
    local seq = redis.call('INCRBY', key .. ':seq', cost)
    local zargs = {}
    for i = cost - 1, 0, -1 do
      zargs[#zargs + 1] = now
      zargs[#zargs + 1] = now .. '-' .. (seq - i)
    end
    redis.call('ZADD', key, unpack(zargs))
    redis.call('PEXPIRE', key, span)
    redis.call('PEXPIRE', key .. ':seq', span)
  end
  return {1, limit - used - cost, 0}
end

redis.register_function{function_name = 'rl_bucket', callback = bucket,
  description = 'token bucket: {allowed, remaining, retry_after_ms}'}
redis.register_function{function_name = 'rl_window', callback = window,
  description = 'sliding window log: {allowed, remaining, retry_after_ms}'}
redis.register_function{function_name = 'rl_peek', callback = peek, flags = {'no-writes'},
  description = 'tokens in a bucket now: {tokens, full_in_ms}'}
