#!lua name=leaderboard
--[[
leaderboard: ranked scores on a sorted set (higher score = better rank; rank 1 is the top).

lb_submit   KEYS: board   ARGV: member, score, [mode=best]
            mode best: keep the higher score; latest: overwrite; sum: add to the score.
            -> {score now, rank}                                                   O(log N)
lb_rank     KEYS: board   ARGV: member     (read-only)
            -> {rank, score} or nil when the member has no score                   O(log N)
lb_top      KEYS: board   ARGV: [n=10]     (read-only)
            -> {member, score, member, score, ...} best first                       O(log N + n)
lb_page     KEYS: board   ARGV: page (1-based), [size=10]   (read-only)
            -> {member, score, ...} of that page, best first                        O(log N + size)
lb_around   KEYS: board   ARGV: member, [n=5]   (read-only)
            -> {rank of the first entry, member, score, ...}: the n entries above and below
               the member (fewer at the edges), or nil when the member is unknown   O(log N + n)
lb_remove   KEYS: board   ARGV: member...  -> number removed                       O(M log N)
Scores are returned as strings (Redis's double format).

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/leaderboard.lua
--]]

local function count(v, default, what)
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n < 1 or n % 1 ~= 0 then
    error({err = 'ERR leaderboard: ' .. what .. ' must be a positive integer'})
  end
  return n
end

local function submit(keys, args)
  local board, member, mode = keys[1], args[1], string.lower(args[3] or 'best')
  local score = tonumber(args[2])
  if member == nil or score == nil or score ~= score then
    error({err = 'ERR leaderboard: member and a numeric score are required'})
  end
  if mode == 'best' then
    redis.call('ZADD', board, 'GT', args[2], member)
  elseif mode == 'latest' then
    redis.call('ZADD', board, args[2], member)
  elseif mode == 'sum' then
    redis.call('ZINCRBY', board, args[2], member)
  else
    error({err = 'ERR leaderboard: mode must be best, latest or sum'})
  end
  return {redis.call('ZSCORE', board, member), redis.call('ZREVRANK', board, member) + 1}
end

local function rank(keys, args)
  local r = redis.call('ZREVRANK', keys[1], args[1])
  if not r then return nil end
  return {r + 1, redis.call('ZSCORE', keys[1], args[1])}
end

local function top(keys, args)
  local n = count(args[1], 10, 'n')
  return redis.call('ZRANGE', keys[1], 0, n - 1, 'REV', 'WITHSCORES')
end

local function page(keys, args)
  local p = count(args[1], 1, 'page')
  local size = count(args[2], 10, 'size')
  local start = (p - 1) * size
  return redis.call('ZRANGE', keys[1], start, start + size - 1, 'REV', 'WITHSCORES')
end

local function around(keys, args)
  local n = count(args[2], 5, 'n')
  local r = redis.call('ZREVRANK', keys[1], args[1])
  if not r then return nil end
  local first = math.max(0, r - n)
  local out = {first + 1}
  local items = redis.call('ZRANGE', keys[1], first, r + n, 'REV', 'WITHSCORES')
  for i = 1, #items do out[#out + 1] = items[i] end
  return out
end

local function remove(keys, args)
  if #args == 0 then return 0 end
  return redis.call('ZREM', keys[1], unpack(args))
end

redis.register_function{function_name = 'lb_submit', callback = submit,
  description = 'submit a score (best|latest|sum): {score, rank}'}
redis.register_function{function_name = 'lb_rank', callback = rank, flags = {'no-writes'},
  description = '{rank, score} of a member'}
redis.register_function{function_name = 'lb_top', callback = top, flags = {'no-writes'},
  description = 'the n best entries'}
redis.register_function{function_name = 'lb_page', callback = page, flags = {'no-writes'},
  description = 'one page of the board'}
redis.register_function{function_name = 'lb_around', callback = around, flags = {'no-writes'},
  description = 'entries around a member'}
redis.register_function{function_name = 'lb_remove', callback = remove,
  description = 'remove members'}
