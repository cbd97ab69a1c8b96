#!lua name=quota
-- Uses mathlib's shared code (load mathlib.lua first; FUNCTION DELETE mathlib is then
-- refused while quota needs it).
--   FCALL quota_use 1 quota:alice <amount> <limit>
--     KEYS[1] the user's usage counter; ARGV[1] amount to use; ARGV[2] the limit.
--     Returns {used, percent of the limit}; refuses past the limit with an error.
--   FCALL_RO quota_percent 1 quota:alice <limit>
local m = ledis.require('mathlib')

redis.register_function('quota_use', function(keys, args)
  local amount, limit = tonumber(args[1]), tonumber(args[2])
  if not amount or not limit then return redis.error_reply('ERR amount and limit must be numbers') end
  local used = tonumber(redis.call('GET', keys[1]) or '0')
  if used + amount > limit then
    return redis.error_reply('QUOTA over the limit (' .. m.percent(used, limit) .. '% used)')
  end
  used = redis.call('INCRBY', keys[1], amount)
  return {used, m.percent(used, limit)}
end)

redis.register_function{function_name = 'quota_percent', flags = {'no-writes'},
  callback = function(keys, args)
    local used = tonumber(redis.call('GET', keys[1]) or '0')
    return m.clamp(m.percent(used, tonumber(args[1])), 0, 100)
  end}
