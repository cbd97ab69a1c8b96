-- ledis keyspace triggers: `redis.register_trigger{...}` in the library API (FUNCTION LOAD).
--
-- Compiled by ledis/scripting/triggers.py in the functions VM, under the chunk name
-- '@ledis_prelude' (so the callback runner's error handler skips the wrapper's frame, as it
-- skips the preludes'), and handed to lua/functions_prelude.lua, which puts `register` in the
-- library API next to redis.register_function and returns `take()` with the functions a
-- library registered. Returns {register, take}.
--
-- The arguments are only collected here: ledis/scripting/triggers.py checks them (every error
-- text lives in ledis/errors.py) and compiles the key patterns. A callback is
-- function(event, key); the functions runner calls function(keys, args), so each callback
-- is wrapped (event = args[1], key = args[2]). The wrapper is not a tail call: the error
-- position ("on @user_function:<line>") must come from the callback's own frame.

local type = type
local registered = {}

local function wrap(cb)
  if type(cb) ~= 'function' then return cb end
  return function(_, args)
    local res = cb(args[1], args[2])
    return res
  end
end

local function register(t)
  local item = {spec = t}
  if type(t) == 'table' then item.callback = wrap(t.callback) end
  registered[#registered + 1] = item
end

local function take()
  local got = registered
  registered = {}
  return got
end

return {register = register, take = take}
