#!lua name=heartbeat
-- A scheduled function: every second the master writes its time into `heartbeat:last`
-- and counts beats in `heartbeat:beats` (a replica shows the same values: timers run on
-- the master only and their writes replicate). LEDIS.TIMERS shows its schedule and counts.
--   FCALL_RO heartbeat_age 0   -> milliseconds since the last beat (nil before the first)
redis.register_timer{name = 'beat', every = '1s', callback = function()
  local now = redis.call('TIME')
  redis.call('SET', 'heartbeat:last', now[1] * 1000 + math.floor(now[2] / 1000))
  redis.call('INCR', 'heartbeat:beats')
end}

redis.register_function{function_name = 'heartbeat_age', flags = {'no-writes'},
  callback = function()
    local last = redis.call('GET', 'heartbeat:last')
    if not last then return nil end
    local now = redis.call('TIME')
    return now[1] * 1000 + math.floor(now[2] / 1000) - tonumber(last)
  end}
