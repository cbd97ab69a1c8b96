-- ledis FUNCTION library extensions (issue #16): shared code and scheduled functions.
--
-- Run by ledis/scripting/modules.py in the functions VM right after functions_prelude.lua,
-- as chunk(fentry, api): fentry is what functions_prelude.lua returned (load_redis, load_api,
-- strict, is_loading), api holds the Python half:
--   require(name) -> exports table | nil, error text   (records the dependency)
-- Returns {begin, collect}: Python calls begin() before a library body runs and collect()
-- after it returned, getting back the exported table and the registered timers.
--
-- What a library body sees in addition to Redis's library API (only while it loads, like
-- redis.register_function):
--   ledis.export(tbl)        make tbl this library's module table (once per library)
--   ledis.require(name)      the module table another library exported; the dependency is
--                            recorded (FUNCTION DELETE / LOAD REPLACE of `name` check it)
--   redis.register_timer{name=, every='250ms'|'5s'|'1m'|'1h' | cron='*/5 * * * *',
--                        callback=function() ... end}
--                            a scheduled function (ledis/scripting/timers.py); the schedule
--                            text is checked by Python when the body returned.

local fentry, api = ...
local load_redis, load_api, strict, is_loading =
      fentry.load_redis, fentry.load_api, fentry.strict, fentry.is_loading
local type, pairs, tostring, error, string_lower, string_find =
      type, pairs, tostring, error, string.lower, string.find
local py_require = api.require

local exported = nil
local timers, timer_names = {}, {}

local function fail(msg) error({err = 'ERR ' .. msg}, 0) end

-- --- shared code ------------------------------------------------------------------------------
local function export(tbl)
  if not is_loading() then fail('ledis.export can only be called on FUNCTION LOAD command') end
  if type(tbl) ~= 'table' then fail('ledis.export expects a table') end
  if exported ~= nil then fail('ledis.export can only be called once per library') end
  exported = tbl
end

local function require_(name)
  if not is_loading() then fail('ledis.require can only be called on FUNCTION LOAD command') end
  if type(name) ~= 'string' then fail('ledis.require expects a library name') end
  local mod, err = py_require(name)
  if mod == nil then error({err = err}, 0) end
  return mod
end

load_api.ledis = strict({export = export, require = require_})

-- --- scheduled functions -------------------------------------------------------------------
local function register_timer(t)
  if not is_loading() then
    fail('redis.register_timer can only be called on FUNCTION LOAD command')
  end
  if type(t) ~= 'table' then
    fail('redis.register_timer expects a table of named arguments (name, every|cron, callback)')
  end
  local name, every, cron, callback
  for k, v in pairs(t) do
    local lk = type(k) == 'string' and string_lower(k) or nil
    if lk == 'name' then
      if type(v) ~= 'string' then fail('redis.register_timer: name must be a string') end
      name = v
    elseif lk == 'every' then
      if type(v) ~= 'string' and type(v) ~= 'number' then
        fail('redis.register_timer: every must be a string such as \'250ms\' or \'5s\'')
      end
      every = tostring(v)
    elseif lk == 'cron' then
      if type(v) ~= 'string' then fail('redis.register_timer: cron must be a string') end
      cron = v
    elseif lk == 'callback' then
      if type(v) ~= 'function' then fail('redis.register_timer: callback must be a function') end
      callback = v
    else
      fail('unknown argument given to redis.register_timer')
    end
  end
  if name == nil then fail('redis.register_timer must get a name argument') end
  if #name == 0 or string_find(name, '[^%w_]') then
    fail('redis.register_timer: timer names can only contain letters, numbers, or underscores(_)')
  end
  if callback == nil then fail('redis.register_timer must get a callback argument') end
  if (every == nil) == (cron == nil) then
    fail('redis.register_timer needs exactly one of every or cron')
  end
  if timer_names[name] then fail('redis.register_timer: timer \'' .. name .. '\' already exists') end
  timer_names[name] = true
  timers[#timers + 1] = {name = name, every = every, cron = cron, callback = callback}
end

load_redis.register_timer = register_timer

-- --- the Python side -------------------------------------------------------------------------
local function begin()
  exported, timers, timer_names = nil, {}, {}
end

local function collect()
  local e, t = exported, timers
  exported, timers, timer_names = nil, {}, {}
  return e, t
end

return {begin = begin, collect = collect}
