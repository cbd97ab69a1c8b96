-- A script to step through with the Lua debugger (not a library: run it with EVAL):
--   redis-cli -p 6380 --ldb --eval examples/lua/debug_me.lua cart:1 , 3 5 8
-- then `s` (step), `p` (print locals), `b 9` + `c` (break at line 9, continue),
-- `r GET cart:1`, `e #ARGV` (eval sees globals such as KEYS/ARGV, not locals: `p total`).
-- In --ldb (YES) mode the INCRBYs are discarded at the end; --ldb-sync-mode keeps them.
local total = 0
for i, v in ipairs(ARGV) do
  total = total + tonumber(v)
  redis.call('INCRBY', KEYS[1], v)
end
redis.debug('total', total)
return {total, redis.call('GET', KEYS[1])}
