--[[
ratelimit_bucket.lua: the token-bucket rate limiter of benchmarks/bench.py (EVALSHA_RATELIMIT).

A typical real-world script of issue #19: read the bucket (HMGET), refill it by the time
elapsed (arithmetic), take one token if there is one, write the bucket back (HSET) and let it
expire once it would be full again (PEXPIRE). The clock is the server's (TIME), so every client
shares it; that is one more call than the four named in the issue, as real limiters make it.

KEYS[1]  the bucket (a hash {tokens, ts})
ARGV[1]  capacity (tokens)
ARGV[2]  refill rate (tokens per second)
Returns 1 when the request is admitted, 0 when it is refused.
--]]

local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = capacity
else
  local elapsed = now - tonumber(state[2])
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tokens + elapsed * rate / 1000)
end

local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end

redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return allowed
