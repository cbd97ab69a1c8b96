#!lua name=queue
--[[
queue: reliable work queue with visibility timeouts, retries with backoff and a dead-letter
list.

A queue is a family of keys under one name Q = KEYS[1]:
  Q:ready     list of job ids ready to be reserved (FIFO)
  Q:delayed   sorted set id -> time (ms) the job becomes ready (delayed push, retry backoff)
  Q:inflight  sorted set id -> visibility deadline (ms) of reserved jobs
  Q:jobs      hash id -> payload
  Q:attempts  hash id -> number of times the job was reserved
  Q:dead      list of ids that failed max_attempts times (payload kept in Q:jobs)
  Q:seq       id counter;  Q:stats  hash of counters (pushed, acked, retried, dead, expired)
A reserved job that is neither acked nor nacked before its visibility deadline is redelivered
(counted as a failed attempt): a worker that crashes loses no job. A job is delivered at least
once; ack/nack take the attempt number returned by reserve, so a worker whose reservation
expired (and whose job was redelivered) cannot ack or nack the newer delivery.
Time comes from the server clock (TIME). Due jobs move to `ready` lazily, on reserve/stats.

q_push     KEYS: Q   ARGV: payload, [delay_ms=0]              -> job id (string)     O(1)
q_reserve  KEYS: Q   ARGV: visibility_ms, [max_attempts=5]
           -> {id, payload, attempt} or nil when nothing is ready.    O(log N) per job moved
q_ack      KEYS: Q   ARGV: id, attempt          -> 1 done, 0 not (or no longer) reserved  O(log N)
q_nack     KEYS: Q   ARGV: id, attempt, [backoff_ms=1000], [max_attempts=5]
           -> 'retry' (back in the queue after backoff_ms * 2^(attempt-1)), 'dead'
              (attempt >= max_attempts: moved to Q:dead) or nil when not reserved.     O(log N)
q_stats    KEYS: Q   (read-only)   -> flat map: ready, delayed, inflight, dead, pushed, acked,
              retried, dead_total, expired                                              O(1)
q_dead     KEYS: Q   ARGV: [count=10]  (read-only) -> {id, payload, ...} oldest first   O(count)
q_requeue_dead  KEYS: Q   ARGV: [count=all]  -> number of dead jobs put back to ready    O(count)

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/queue.lua
--]]

local function num(v, default, what)
  if v == nil or v == '' then return default end
  local n = tonumber(v)
  if not n or n < 0 or n % 1 ~= 0 then
    error({err = 'ERR queue: ' .. what .. ' must be a non-negative integer'})
  end
  return n
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function bury(q, id)
  redis.call('RPUSH', q .. ':dead', id)
  redis.call('HINCRBY', q .. ':stats', 'dead', 1)
end

-- Move due delayed jobs to ready and expired reservations back (or to dead).
local function promote(q, now, max_attempts)
  local due = redis.call('ZRANGEBYSCORE', q .. ':delayed', '-inf', now, 'LIMIT', 0, 1000)
  if #due > 0 then
    redis.call('ZREM', q .. ':delayed', unpack(due))
    redis.call('RPUSH', q .. ':ready', unpack(due))
  end
  local expired = redis.call('ZRANGEBYSCORE', q .. ':inflight', '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(expired) do
    redis.call('ZREM', q .. ':inflight', id)
    redis.call('HINCRBY', q .. ':stats', 'expired', 1)
    local attempts = tonumber(redis.call('HGET', q .. ':attempts', id) or '0')
    if attempts >= max_attempts then
      bury(q, id)
    else
      redis.call('LPUSH', q .. ':ready', id)   -- redelivered first
    end
  end
end

local function push(keys, args)
  local q = keys[1]
  local payload = args[1]
  if payload == nil then error({err = 'ERR queue: payload is missing'}) end
  local delay = num(args[2], 0, 'delay_ms')
  local id = tostring(redis.call('INCR', q .. ':seq'))
  redis.call('HSET', q .. ':jobs', id, payload)
  if delay > 0 then
    redis.call('ZADD', q .. ':delayed', now_ms() + delay, id)
  else
    redis.call('RPUSH', q .. ':ready', id)
  end
  redis.call('HINCRBY', q .. ':stats', 'pushed', 1)
  return id
end

local function reserve(keys, args)
  local q = keys[1]
  local visibility = num(args[1], nil, 'visibility_ms')
  if not visibility or visibility == 0 then
    error({err = 'ERR queue: visibility_ms must be a positive integer'})
  end
  local max_attempts = num(args[2], 5, 'max_attempts')
  local now = now_ms()
  promote(q, now, max_attempts)
  while true do
    local id = redis.call('LPOP', q .. ':ready')
    if not id then return nil end
    local payload = redis.call('HGET', q .. ':jobs', id)
    if payload then
      local attempt = redis.call('HINCRBY', q .. ':attempts', id, 1)
      redis.call('ZADD', q .. ':inflight', now + visibility, id)
      return {id, payload, attempt}
    end
    -- an id without payload (acked while queued twice): skip it
  end
end

local function reserved(q, id, attempt)
  if not id or not redis.call('ZSCORE', q .. ':inflight', id) then return false end
  return redis.call('HGET', q .. ':attempts', id) == tostring(attempt)
end

local function ack(keys, args)
  local q, id = keys[1], args[1]
  if not reserved(q, id, args[2]) then return 0 end
  redis.call('ZREM', q .. ':inflight', id)
  redis.call('HDEL', q .. ':jobs', id)
  redis.call('HDEL', q .. ':attempts', id)
  redis.call('HINCRBY', q .. ':stats', 'acked', 1)
  return 1
end

local function nack(keys, args)
  local q, id = keys[1], args[1]
  local backoff = num(args[3], 1000, 'backoff_ms')
  local max_attempts = num(args[4], 5, 'max_attempts')
  if not reserved(q, id, args[2]) then return nil end
  redis.call('ZREM', q .. ':inflight', id)
  local attempt = tonumber(args[2])
  if attempt >= max_attempts then
    bury(q, id)
    return 'dead'
  end
  redis.call('HINCRBY', q .. ':stats', 'retried', 1)
  local delay = backoff * 2 ^ (attempt - 1)
  if delay > 0 then
    redis.call('ZADD', q .. ':delayed', now_ms() + delay, id)
  else
    redis.call('RPUSH', q .. ':ready', id)
  end
  return 'retry'
end

local function stats(keys, args)
  local q = keys[1]
  local s = redis.call('HMGET', q .. ':stats', 'pushed', 'acked', 'retried', 'dead', 'expired')
  return {'ready', redis.call('LLEN', q .. ':ready'),
          'delayed', redis.call('ZCARD', q .. ':delayed'),
          'inflight', redis.call('ZCARD', q .. ':inflight'),
          'dead', redis.call('LLEN', q .. ':dead'),
          'pushed', tonumber(s[1] or 0), 'acked', tonumber(s[2] or 0),
          'retried', tonumber(s[3] or 0), 'dead_total', tonumber(s[4] or 0),
          'expired', tonumber(s[5] or 0)}
end

local function dead(keys, args)
  local q = keys[1]
  local count = num(args[1], 10, 'count')
  if count == 0 then return {} end
  local ids = redis.call('LRANGE', q .. ':dead', 0, count - 1)
  local out = {}
  for _, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGET', q .. ':jobs', id) or false
  end
  return out
end

local function requeue_dead(keys, args)
  local q = keys[1]
  local count = num(args[1], -1, 'count')
  local n = 0
  while count < 0 or n < count do
    local id = redis.call('LPOP', q .. ':dead')
    if not id then break end
    redis.call('HDEL', q .. ':attempts', id)
    redis.call('RPUSH', q .. ':ready', id)
    n = n + 1
  end
  return n
end

redis.register_function{function_name = 'q_push', callback = push,
  description = 'push a job (optionally delayed); returns its id'}
redis.register_function{function_name = 'q_reserve', callback = reserve,
  description = 'reserve the next job for visibility_ms: {id, payload, attempt} or nil'}
redis.register_function{function_name = 'q_ack', callback = ack,
  description = 'acknowledge a reserved job (id, attempt)'}
redis.register_function{function_name = 'q_nack', callback = nack,
  description = 'fail a reserved job: retry with exponential backoff or dead-letter'}
redis.register_function{function_name = 'q_stats', callback = stats, flags = {'no-writes'},
  description = 'queue counters'}
redis.register_function{function_name = 'q_dead', callback = dead, flags = {'no-writes'},
  description = 'dead-lettered jobs: {id, payload, ...}'}
redis.register_function{function_name = 'q_requeue_dead', callback = requeue_dead,
  description = 'put dead-lettered jobs back in the queue'}
