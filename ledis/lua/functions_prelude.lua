-- ledis FUNCTION engine prelude: turns a runtime built with lua/prelude.lua into the
-- Redis 7 functions VM (a VM of its own, separate from EVAL's, as in Redis).
--
-- Run by ledis/scripting/functions.py right after prelude.lua, in the same runtime, with full
-- access to the real globals. Compiled under the chunk name '@ledis_prelude' so the prelude's
-- error handler skips its frames like its own. Called as chunk(entry, api) where entry is
-- what prelude.lua returned (compile, run, real) and api holds:
--   log(level, msg)   redis.log
-- Returns {compile_library, call, last_error_pos}.
--
-- * Libraries compile with the chunk name '@user_function' into `fenv`, the globals table of
--   every library. Its __index is switched while a library body runs (FUNCTION LOAD) to the
--   "library API": only redis.register_function / redis.log / redis.LOG_* / REDIS_VERSION*;
--   anything else is a nonexistent global, as in Redis 7.0. Afterwards callbacks see the
--   whole sandbox (minus KEYS/ARGV: functions get keys and args as parameters).
-- * redis.register_function checks its arguments with Redis's exact texts and records the
--   functions in `registered`; Python takes them once the body returned.
-- * call(cb, hook, resp3, nkeys, ...) runs one callback through the prelude's runner (time
--   limit, reply conversion) with its own error handler that knows the callback, so the
--   "script: <name>, on @user_function:<line>." suffix works for tail calls too.

local entry, api, triggers = ...  -- triggers: lua/triggers.lua's table (register, take)
local G = _G
local real, run = entry.real, entry.run
local debug_getinfo, debug_getmetatable = debug.getinfo, debug.getmetatable
local jit_off = jit.off
local load, setfenv, setmetatable, rawget, type, tostring, error, xpcall, select, pairs =
      load, setfenv, setmetatable, rawget, type, tostring, error, xpcall, select, pairs
local string_byte, string_find, string_lower = string.byte, string.find, string.lower

local PRELUDE = debug_getinfo(1, 'S').source
local RO_TEXT = 'Attempt to modify a readonly table'
local function ro_error() error(RO_TEXT, 2) end
local function missing(k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3)
end

-- The redis table of this VM (the prelude exposes it read-only: reach the real one).
local redis = rawget(debug_getmetatable(real.redis), '__index')
redis.breakpoint, redis.debug, redis.replicate_commands = nil, nil, nil

local loading = false
local registered, registered_names = {}, {}

local FLAGS = {['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true,
               ['no-cluster'] = true, ['allow-cross-slot-keys'] = true}

local function fail(msg) error({err = 'ERR ' .. msg}, 0) end

local function valid_name(name)
  return #name > 0 and not string_find(name, '[^%w_]')
end

local function is_string(v) return type(v) == 'string' or type(v) == 'number' end

local function register(name, callback, flags, description)
  name = tostring(name)
  if not valid_name(name) then
    fail('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
  end
  local key = name   -- case-sensitive inside a library (FCALL lookup is not), as in 7.0
  if registered_names[key] then fail('Function already exists in the library') end
  registered_names[key] = true
  registered[#registered + 1] = {name = name, callback = callback, flags = flags,
                                 description = description}
end

-- Only in the library API (at run time `redis.register_function` is nil, as in Redis).
local register_function = function(...)
  if not loading then
    fail('redis.register_function can only be called on FUNCTION LOAD command')
  end
  local n = select('#', ...)
  if n == 1 then
    local t = ...
    if type(t) ~= 'table' then
      fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
    end
    local name, callback, flags, description = nil, nil, {}, nil
    for k, v in pairs(t) do
      if not is_string(k) then
        fail('named argument key given to redis.register_function is not a string')
      end
      local lk = string_lower(tostring(k))
      if lk == 'function_name' then
        if not is_string(v) then
          fail('function_name argument given to redis.register_function must be a string')
        end
        name = tostring(v)
      elseif lk == 'description' then
        if not is_string(v) then
          fail('description argument given to redis.register_function must be a string')
        end
        description = tostring(v)
      elseif lk == 'callback' then
        if type(v) ~= 'function' then
          fail('callback argument given to redis.register_function must be a function')
        end
        callback = v
      elseif lk == 'flags' then
        if type(v) ~= 'table' then
          fail('flags argument to redis.register_function must be a table representing function flags')
        end
        for _, flag in pairs(v) do
          if not is_string(flag) then fail('unknown flag given') end
          local lf = string_lower(tostring(flag))
          if not FLAGS[lf] then fail('unknown flag given') end
          flags[#flags + 1] = lf
        end
      else
        fail('unknown argument given to redis.register_function')
      end
    end
    if name == nil then fail('redis.register_function must get a function name argument') end
    if callback == nil then fail('redis.register_function must get a callback argument') end
    return register(name, callback, flags, description)
  elseif n == 2 then
    local name, callback = ...
    if not is_string(name) then
      fail('first argument to redis.register_function must be a string')
    end
    if type(callback) ~= 'function' then
      fail('second argument to redis.register_function must be a function')
    end
    return register(name, callback, {}, nil)
  end
  fail('wrong number of arguments to redis.register_function')
end

-- --- the library API (what a library body sees while it loads) -------------------------------
local function strict(t)
  return setmetatable({}, {__index = function(_, k)
    local v = rawget(t, k)
    if v == nil then missing(k) end
    return v
  end, __newindex = ro_error, __metatable = false})
end
local load_redis = {
  register_function = register_function, log = redis.log,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE, LOG_NOTICE = redis.LOG_NOTICE,
  LOG_WARNING = redis.LOG_WARNING, REDIS_VERSION = redis.REDIS_VERSION,
  REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
  register_trigger = triggers and triggers.register,  -- ledis keyspace triggers
}
local load_api = {redis = strict(load_redis)}

local fenv = setmetatable({}, {__index = function(_, k)
  if loading then
    local v = rawget(load_api, k)
    if v == nil then missing(k) end
    return v
  end
  if k == 'KEYS' or k == 'ARGV' then missing(k) end
  local v = rawget(real, k)
  if v == nil then missing(k) end
  return v
end, __newindex = ro_error, __metatable = false})

-- compile_library(src) -> fn | nil, message
local function compile_library(src)
  if type(src) ~= 'string' then return nil, 'code is not a string' end
  if string_byte(src, 1) == 27 then return nil, 'attempt to load a binary chunk' end
  local f, err = load(src, '@user_function', 't')
  if not f then return nil, err end
  setfenv(f, fenv)
  jit_off(f, true)
  return f
end

-- load_library(fn, hook) -> kind, payload (prelude runner codes; 5 = error), the list of
-- registered functions as {name, callback, flags-table, description} tables and the list of
-- registered triggers (lua/triggers.lua).
local function load_library(fn, hook)
  registered, registered_names = {}, {}
  if triggers then triggers.take() end
  loading = true
  local kind, payload = run(fn, hook, false, 0)
  loading = false
  local got = registered
  registered, registered_names = {}, {}
  return kind, payload, got, triggers and triggers.take()
end

-- --- calling a function ------------------------------------------------------------------------
-- The line of a script's tail call, which LuaJIT drops from tracebacks (lua/prelude.lua).
local tail_call_line = entry.tail_call_line

local cur_cb, cur_keys, cur_args
local err_source, err_line = nil, nil

local function fn_err_handler(e)
  local text
  if type(e) == 'table' then
    text = rawget(e, 'err')
    if type(text) ~= 'string' then text = 'ERR unknown error' end
  else
    text = 'ERR ' .. tostring(e)
  end
  local level = 2
  while true do
    local info = debug_getinfo(level, 'Sl')
    if not info then
      local line = tail_call_line(cur_cb)
      if line then err_source, err_line = '@user_function', line end
      return {err = text}
    end
    if info.what ~= 'C' and info.source ~= PRELUDE then
      if info.currentline and info.currentline > 0 then
        err_source, err_line = info.source, info.currentline
      end
      return {err = text}
    end
    level = level + 1
  end
end

local function call_cb()
  local ok, res = xpcall(cur_cb, fn_err_handler, cur_keys, cur_args)
  if ok then return res end
  error(res, 0)
end

-- call(cb, hook, resp3, nkeys, keys..., args...) -> prelude runner result
local function call(cb, hook, resp3, nkeys, ...)
  local keys, args
  if nkeys == 0 then
    keys, args = {}, {...}
  else
    keys, args = {...}, {select(nkeys + 1, ...)}
    for i = select('#', ...), nkeys + 1, -1 do keys[i] = nil end
  end
  cur_cb, cur_keys, cur_args = cb, keys, args
  err_source, err_line = nil, nil
  local a, b, c, d = run(call_cb, hook, resp3, 0)
  cur_cb, cur_keys, cur_args = nil, nil, nil
  return a, b, c, d
end

local function last_error_pos() return err_source, err_line end

-- Extensions (lua/libraries.lua: ledis.require / ledis.export, redis.register_timer) add
-- their names to the library API through load_redis / load_api and ask is_loading().
return {compile_library = compile_library, load_library = load_library, call = call,
        last_error_pos = last_error_pos, load_redis = load_redis, load_api = load_api,
        strict = strict, is_loading = function() return loading end}
