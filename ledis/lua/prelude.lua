-- ledis scripting prelude: builds the EVAL sandbox and the `redis` table.
--
-- Run once per Lua runtime by ledis/scripting/runtime.py with full access to lupa's real
-- globals (G). Everything dangerous (debug, jit, load, the Python bridge) is kept in upvalues
-- here; user scripts only ever see `env`, a read-only proxy over `real`, an allow-list of
-- globals. Called as chunk(api) where api is a table of Python callables:
--   bridge(...)      redis.call: returns a value, or (nil, 1, status) / (nil, 2, error text)
--                    / (nil, 3, items...) for a flat array
--   check()          time-limit hook: returns true when SCRIPT KILL asked to stop
--   log(level, msg)  redis.log
--   sha1hex(s)       lower-case hex sha1
--   setresp(n)       protocol used to convert redis.call replies
--   libs             {name = source} of the pure-Lua libraries present (cjson, prng...)
-- Returns the table of entry points Python uses (compile, run, ...).
--
-- Protection model (Redis 7.0 texts): reading a missing global raises "Script attempted to
-- access nonexistent global variable 'x'"; writing any global or any field of a library raises
-- "Attempt to modify a readonly table". User chunks get jit.off so the count hook fires
-- (LuaJIT does not run hooks inside compiled traces), and so does every chunk they make with
-- loadstring/load. Only text chunks load.

local api = ...
local G = _G
local debug_getinfo, debug_sethook = debug.getinfo, debug.sethook
local jit_off = jit.off
local load, loadstring, setfenv, setmetatable, getmetatable = load, loadstring, setfenv, setmetatable, getmetatable
local rawget, rawset, type, tostring, error, pcall, xpcall, select, unpack, pairs, next =
      rawget, rawset, type, tostring, error, pcall, xpcall, select, unpack, pairs, next
local string_format, string_gsub, string_find, string_sub, string_byte =
      string.format, string.gsub, string.find, string.sub, string.byte
local table_concat = table.concat
local bridge, py_check, py_log, py_sha1hex, py_setresp = api.bridge, api.check, api.log, api.sha1hex, api.setresp

local PRELUDE = debug_getinfo(1, 'S').source   -- frames from this file are never "user" frames
-- Frames of this file and of the Lua libraries (C modules in Redis) are never reported as
-- the error position.
local INTERNAL_SOURCES = {[PRELUDE] = true, ['@cjson.lua'] = true, ['@cmsgpack.lua'] = true,
  ['@struct.lua'] = true, ['@prng.lua'] = true, ['@debugger.lua'] = true}
local RO_TEXT = 'Attempt to modify a readonly table'
local KILLED = 'ERR Script killed by user with SCRIPT KILL...'

local protected = setmetatable({}, {__mode = 'k'})
local client_resp3, script_resp3 = false, false   -- protocol of the caller / of redis.call

local function ro_error() error(RO_TEXT, 2) end

local function readonly(t)
  local proxy = setmetatable({}, {__index = t, __newindex = ro_error, __metatable = false})
  protected[proxy] = true
  return proxy
end

local function copy(t, skip)
  local c = {}
  for k, v in pairs(t) do if not (skip and skip[k]) then c[k] = v end end
  return c
end

-- --- the allow-list -------------------------------------------------------------------------
local real = {}          -- name -> value visible to scripts
local env = setmetatable({}, {__index = real, __newindex = ro_error, __metatable = false})
protected[env] = true
setmetatable(real, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})

for _, name in ipairs({'assert', 'collectgarbage', 'error', 'getmetatable', 'ipairs', 'next',
    'pairs', 'rawequal', 'rawget', 'select', 'tonumber', 'tostring', 'type', 'unpack',
    'xpcall', 'gcinfo', '_VERSION'}) do
  real[name] = G[name]
end
real._G = env

-- libraries: private copies, exposed read-only
local safe_string = copy(string, {dump = true})
safe_string.gfind = string.gmatch
local safe_math = copy(math)
safe_math.mod = math.fmod
local safe_table = copy(table, {move = true, new = true, clear = true})
local safe_coroutine = copy(coroutine, {isyieldable = true})
local safe_bit = copy(bit)

local string_proxy = readonly(safe_string)
-- Strings index their methods through this metatable: point it at the read-only proxy and
-- hide the real metatable (getmetatable('') gives a read-only view).
local string_mt = getmetatable('')
string_mt.__index = string_proxy
string_mt.__metatable = readonly({__index = string_proxy})

-- libraries written in Lua (lua/*.lua): each chunk returns its module table
local lib_env = {string = safe_string, math = safe_math, table = safe_table, bit = safe_bit,
  pairs = pairs, ipairs = ipairs, type = type, tostring = tostring, tonumber = tonumber,
  error = error, pcall = pcall, select = select, next = next, setmetatable = setmetatable,
  getmetatable = getmetatable, rawget = rawget, rawset = rawset, unpack = unpack,
  assert = assert, rawequal = rawequal, xpcall = xpcall, newproxy = newproxy}
local function load_lib(name)
  local src = api.libs and api.libs[name]
  if not src then return nil end
  local f, err = loadstring(src, '@' .. name .. '.lua')
  if not f then api.log(3, 'cannot load lua/' .. name .. '.lua: ' .. tostring(err)) return nil end
  setfenv(f, lib_env)
  local ok, mod = pcall(f, safe_bit, safe_string, safe_math, safe_table)
  if not ok or type(mod) ~= 'table' then
    api.log(3, 'lua/' .. name .. '.lua failed: ' .. tostring(mod)) return nil
  end
  return mod
end

local prng = load_lib('prng')
if prng then
  safe_math.random, safe_math.randomseed = prng.random, prng.randomseed
end
for _, name in ipairs({'cjson', 'cmsgpack', 'struct'}) do
  local mod = load_lib(name)
  if mod then
    local null = rawget(mod, 'null')          -- cjson.null: keep its metatable out of reach
    if type(null) == 'userdata' then
      local mt = getmetatable(null)
      if type(mt) == 'table' then mt.__metatable = false end
    end
    real[name] = readonly(mod)
  end
end

real.string = string_proxy
real.math = readonly(safe_math)
real.table = readonly(safe_table)
real.coroutine = readonly(safe_coroutine)
real.bit = readonly(safe_bit)

-- --- user chunks ----------------------------------------------------------------------------
local function compile_user(src, name)
  if type(src) ~= 'string' then return nil, 'chunk is not a string' end
  if string_byte(src, 1) == 27 then return nil, 'attempt to load a binary chunk' end
  local f, err = load(src, name, 't')
  if not f then return nil, err end
  setfenv(f, env)
  jit_off(f, true)
  return f
end

real.loadstring = function(src, name)
  if type(src) == 'number' then src = tostring(src) end
  return compile_user(src, name or src)
end
real.load = function(chunk, name)
  if type(chunk) == 'function' then
    local parts = {}
    while true do
      local piece = chunk()
      if piece == nil or piece == '' then break end
      if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
      parts[#parts + 1] = piece
    end
    chunk = table_concat(parts)
  end
  return compile_user(chunk, name or '=(load)')
end

-- error() as the user sees it: the same positions as PUC Lua even when it is tail-called
-- (`return error('x')`), see err_handler. A level-0 message is remembered so the handler
-- leaves it without position.
local plain_error = nil
real.error = function(msg, level)
  level = level == nil and 1 or level
  local t = type(msg)
  if level == 0 or (t ~= 'string' and t ~= 'number') then
    if t == 'string' then plain_error = msg end
    error(msg, 0)
  end
  error(msg, level + 1)   -- not a tail call: this frame must stay for the level to count
end

real.rawset = function(t, k, v)
  if protected[t] then error(RO_TEXT, 0) end
  return rawset(t, k, v)
end
real.setmetatable = function(t, mt)
  if protected[t] then error(RO_TEXT, 0) end
  return setmetatable(t, mt)
end

-- pcall as Redis replaces it: an error table {err=s} comes back as the string s
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'table' then
    local s = rawget(e, 'err')
    if type(s) == 'string' then return false, s end
  end
  return false, ...
end
-- (real.pcall is defined with the time limit below: it passes pcall_gate)

-- --- the redis table ------------------------------------------------------------------------
local redis = {}

-- The bridge's reply: a value; (nil, 1, status); (nil, 2, error text); or (nil, 3, items...),
-- a flat array packed here (cheaper than building the table from Python).
local function call_reply(v, tag, p, ...)
  if tag == nil then return v end
  if tag == 3 then return {p, ...} end
  if tag == 1 then return {ok = p} end
  error({err = p}, 0)
end
local function pcall_reply(v, tag, p, ...)
  if tag == nil then return v end
  if tag == 3 then return {p, ...} end
  if tag == 1 then return {ok = p} end
  return {err = p}
end
redis.call = function(...) return call_reply(bridge(...)) end
redis.pcall = function(...) return pcall_reply(bridge(...)) end

-- luaPushErrorBuff: "-CODE msg" -> "CODE msg"; a single word or no dash -> "ERR ..."
local function error_text(s)
  if string_byte(s, 1) == 45 then       -- '-'
    s = string_sub(s, 2)
    if not string_find(s, ' ', 1, true) then s = 'ERR ' .. s end
  else
    s = 'ERR ' .. s
  end
  return (string_gsub(s, '\r?\n$', ''))
end

local BAD_ARGS = 'ERR wrong number or type of arguments'
-- Errors of the redis.* API are raised as tables, as Redis does (luaRaiseError): no position,
-- and a replaced pcall returns the "ERR ..." string.
local function api_error(msg) error({err = 'ERR ' .. msg}, 0) end
redis.error_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = BAD_ARGS} end
  if string_byte(s, 1) ~= 45 then s = '-' .. s end
  return {err = error_text(s)}
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = BAD_ARGS} end
  return {ok = s}
end
redis.sha1hex = function(...)
  local s = ...
  if select('#', ...) ~= 1 then api_error('wrong number of arguments') end
  if type(s) == 'number' then s = tostring(s) end
  if type(s) ~= 'string' then s = '' end
  return py_sha1hex(s)
end
redis.log = function(...)
  local n = select('#', ...)
  if n < 2 then api_error('redis.log() requires two arguments or more.') end
  local level = ...
  if type(level) ~= 'number' then api_error('First argument must be a number (log level).') end
  if level < 0 or level > 3 then api_error('Invalid debug level.') end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    if type(v) == 'string' or type(v) == 'number' then parts[#parts + 1] = tostring(v) end
  end
  py_log(math.floor(level), table_concat(parts, ' '))
end
redis.setresp = function(...)
  if select('#', ...) ~= 1 then api_error('redis.setresp() requires one argument.') end
  local n = ...
  if n ~= 2 and n ~= 3 then api_error('RESP version must be 2 or 3.') end
  script_resp3 = (n == 3)
  py_setresp(n)
end
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then api_error('redis.set_repl() requires two arguments.') end
  local flags = ...
  if type(flags) ~= 'number' or flags < 0 or flags > 3 or flags % 1 ~= 0 then
    api_error('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
end
redis.replicate_commands = function() return true end
-- redis.breakpoint() / redis.debug(): no-ops unless the Lua debugger (lua/debugger.lua) has
-- installed a session's versions in `ldb` for the time of a debugging session.
local ldb = {breakpoint = function() return false end, debug = function() end}
redis.breakpoint = function() return ldb.breakpoint() end
redis.debug = function(...) return ldb.debug(...) end
redis.acl_check_cmd = function(...)
  if select('#', ...) < 1 then api_error('Please specify at least one argument for this redis lib call') end
  local known = api.command_exists(...)
  if not known then api_error('Invalid command passed to redis.acl_check_cmd()') end
  return true
end
redis.REDIS_VERSION = '7.0.15'
redis.REDIS_VERSION_NUM = 0x0007000f  -- 7.0.15
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
real.redis = readonly(redis)

-- ledis.<command>(...) == redis.call('<command>', ...) for every registered command
-- (a ledis extension, DESIGN.md section 4); unknown names read as missing fields.
-- ledis.host.<name>(...): Python functions registered by an embedding program
-- (ledis/embedded.py); same reply convention as redis.call.
local host_fns = {}
local host_call, host_exists = api.host, api.host_exists
local host_tbl = setmetatable({}, {__index = function(_, name)
  local f = host_fns[name]
  if f then return f end
  if type(name) ~= 'string' or not host_exists or not host_exists(name) then return nil end
  f = function(...)
    local v, tag, p = host_call(name, ...)
    if tag == nil then return v end
    if tag == 1 then return {ok = p} end
    error({err = p}, 0)
  end
  host_fns[name] = f
  return f
end, __newindex = ro_error, __metatable = false})
protected[host_tbl] = true
-- ledis.pcall.<command>(...) == redis.pcall('<command>', ...): errors come back as {err=...}
local pcall_fns = {}
local pcall_tbl = setmetatable({}, {__index = function(_, name)
  local f = pcall_fns[name]
  if f then return f end
  if type(name) ~= 'string' or not api.command_exists(name) then return nil end
  local pcall_ = redis.pcall
  f = function(...) return pcall_(name, ...) end
  pcall_fns[name] = f
  return f
end, __newindex = ro_error, __metatable = false})
protected[pcall_tbl] = true
-- ledis.fcall(name, {keys}, {args}) / ledis.fcall_ro(...): a FUNCTION library's function
-- called from a script (ledis/scripting/modules.py); same reply convention as redis.call.
local fcall_api = api.fcall
local function make_fcall(ro)
  return function(name, keys, args)
    local v, tag, p = fcall_api(ro, name, keys, args)
    if tag == nil then return v end
    if tag == 1 then return {ok = p} end
    error({err = p}, 0)
  end
end
local ledis_fns = {fcall = make_fcall(false), fcall_ro = make_fcall(true)}
local ledis_tbl = setmetatable({}, {__index = function(_, name)
  local f = ledis_fns[name]
  if f then return f end
  if name == 'host' then return host_tbl end
  if name == 'pcall' then return pcall_tbl end
  if type(name) ~= 'string' or not api.command_exists(name) then return nil end
  local call = redis.call
  f = function(...) return call(name, ...) end
  ledis_fns[name] = f
  return f
end, __newindex = ro_error, __metatable = false})
protected[ledis_tbl] = true
real.ledis = ledis_tbl

-- --- errors ---------------------------------------------------------------------------------
-- Mirrors Redis's __redis__err__handler: find the user frame (skip C frames and this file),
-- turn any error into {err=..., source=..., line=...}.
-- LuaJIT drops the caller's frame on a tail call (`return redis.call(...)`), where PUC Lua
-- keeps it for C functions. Then the line is taken from the running chunk's tail calls.
local jit_util = require('jit.util')
local bit_band = bit.band
local function last_op(f)
  local op, pc = nil, 0
  while true do
    local ins = jit_util.funcbc(f, pc)
    if not ins then return op end
    op = bit_band(ins, 0xff)
    pc = pc + 1
  end
end
local TAIL_OPS = {[last_op(loadstring('local f return f()'))] = true,
                  [last_op(loadstring('local f, t return f(unpack(t))'))] = true}
local tail_lines = setmetatable({}, {__mode = 'k'})
local current_fn = nil
local function tail_call_line(f)
  if not f then return nil end
  local line = tail_lines[f]
  if line == nil then
    line = false
    local pc = 0
    while true do
      local ins = jit_util.funcbc(f, pc)
      if not ins then break end
      if TAIL_OPS[bit_band(ins, 0xff)] then line = jit_util.funcinfo(f, pc).currentline end
      pc = pc + 1
    end
    tail_lines[f] = line
  end
  return line or nil
end

local function err_handler(e)
  local text
  if type(e) == 'table' then
    text = rawget(e, 'err')
    if type(text) ~= 'string' then text = 'ERR unknown error' end
  else
    text = 'ERR ' .. tostring(e)
  end
  -- A string raised inside a library (a C module in Redis, whose luaL_error names the
  -- caller's line) gets the user position prefixed, as Redis shows it.
  local from_lib, first_lua = false, true
  local function lib_prefix(short_src, line)
    if from_lib and type(e) == 'string' then
      local pos = short_src .. ':' .. line .. ': '
      if string_sub(e, 1, #pos) ~= pos then text = 'ERR ' .. pos .. e end
    end
  end
  local level = 2
  while true do
    local info = debug_getinfo(level, 'Sl')
    if not info then
      local line = tail_call_line(current_fn)
      if line then
        -- The user frame was dropped by a tail call (`return f(...)`). In PUC Lua the
        -- caller's frame survives a tail call into a C function, so a string error raised
        -- there (error('x'), luaL_error in a library, "bad argument") names the user line.
        if type(e) == 'string' and e ~= plain_error and not string_find(e, '^[%w_]+:%d+: ')
            and not string_find(e, '^%[string ') then
          text = 'ERR user_script:' .. line .. ': ' .. e
        end
        return {err = text, source = '@user_script', line = line}
      end
      return {err = text}
    end
    if info.what ~= 'C' then
      if not INTERNAL_SOURCES[info.source] then
        if info.currentline and info.currentline > 0 then
          lib_prefix(info.short_src, info.currentline)
          return {err = text, source = info.source, line = info.currentline}
        end
        return {err = text}
      elseif info.source ~= PRELUDE and first_lua then
        from_lib = true
      end
      first_lua = false
    end
    level = level + 1
  end
end
real.__redis__err__handler = err_handler

-- --- time limit -----------------------------------------------------------------------------
-- The count hook asks Python every N instructions; after a kill, a line hook raises on every
-- user line so pcall / coroutine.resume cannot swallow it.
local function killer()
  local info = debug_getinfo(2, 'S')
  if info and info.source == PRELUDE then return end
  error({err = KILLED}, 2)
end
local active_count, killing = 0, false   -- the count hook stays installed between runs
local function count_hook()
  if py_check() then
    killing = true
    debug_sethook(killer, 'l')
    error({err = KILLED}, 2)
  end
end

-- The hooks are not enough where a script nests protected calls without end: in
-- `local function f() pcall(f) return f() end` LuaJIT ends up in its own error handling (C)
-- for good once the Lua stack overflows inside thousands of nested pcalls, and no hook fires:
-- no BUSY reply, no SCRIPT KILL (issue #21). So every pcall / xpcall of a script passes this
-- gate. It refuses to nest more than MAX_PCALL_DEPTH deep with Redis's error ("C stack
-- overflow": Lua 5.1's C-call limit, 200, stops Redis at that depth too), raises KILLED
-- after a kill before the protected call (which unwinds such a recursion level by level),
-- and every PCALL_CHECK calls asks Python as the count hook does (time limit, BUSY service).
local MAX_PCALL_DEPTH, PCALL_CHECK = 200, 1000
local pcall_depth, pcall_calls = 0, 0
local function pcall_gate()
  if killing then error({err = KILLED}, 3) end
  if pcall_depth >= MAX_PCALL_DEPTH then error('C stack overflow', 0) end
  pcall_calls = pcall_calls + 1
  if pcall_calls >= PCALL_CHECK then
    pcall_calls = 0
    if active_count > 0 and py_check() then
      killing = true
      debug_sethook(killer, 'l')
      error({err = KILLED}, 3)
    end
  end
  pcall_depth = pcall_depth + 1
end
local function pcall_leave(...)
  pcall_depth = pcall_depth - 1
  return ...
end
real.pcall = function(...) pcall_gate() return pcall_leave(pcall_result(pcall(...))) end
real.xpcall = function(...) pcall_gate() return pcall_leave(xpcall(...)) end

-- --- Lua value -> RESP (the script's reply) -------------------------------------------------
-- Only aggregates and the RESP3-specific shapes come here; the runner answers strings,
-- numbers, status and error replies directly.
local MAX_DEPTH = 200

local function one_line(s) return (string_gsub(s, '[\r\n]', ' ')) end

local function number_text(n) return string_format('%d', n) end

local function double_text(n)
  if n ~= n then return 'nan' end
  if n == math.huge then return 'inf' end
  if n == -math.huge then return '-inf' end
  return string_format('%.17g', n)
end

local serialize
serialize = function(v, buf, depth)
  local t = type(v)
  if t == 'string' then
    buf[#buf + 1] = '$' .. #v .. '\r\n' .. v .. '\r\n'
  elseif t == 'number' then
    buf[#buf + 1] = ':' .. number_text(v) .. '\r\n'
  elseif t == 'boolean' then
    if script_resp3 then
      if client_resp3 then buf[#buf + 1] = v and '#t\r\n' or '#f\r\n'
      else buf[#buf + 1] = v and ':1\r\n' or ':0\r\n' end
    elseif v then buf[#buf + 1] = ':1\r\n'
    else buf[#buf + 1] = client_resp3 and '_\r\n' or '$-1\r\n' end
  elseif t == 'table' then
    if depth > MAX_DEPTH then buf[#buf + 1] = '-ERR reached lua stack limit\r\n' return end
    local f = rawget(v, 'err')
    if type(f) == 'string' then buf[#buf + 1] = '-' .. one_line(f) .. '\r\n' return end
    f = rawget(v, 'ok')
    if type(f) == 'string' then
      local nul = string_find(f, '\0', 1, true)
      if nul then f = string_sub(f, 1, nul - 1) end
      buf[#buf + 1] = '+' .. one_line(f) .. '\r\n'
      return
    end
    f = rawget(v, 'double')
    if type(f) == 'number' then
      local s = double_text(f)
      if client_resp3 then buf[#buf + 1] = ',' .. s .. '\r\n'
      else buf[#buf + 1] = '$' .. #s .. '\r\n' .. s .. '\r\n' end
      return
    end
    f = rawget(v, 'big_number')
    if type(f) == 'string' then
      if client_resp3 then buf[#buf + 1] = '(' .. one_line(f) .. '\r\n'
      else buf[#buf + 1] = '$' .. #f .. '\r\n' .. f .. '\r\n' end
      return
    end
    f = rawget(v, 'verbatim_string')
    if type(f) == 'table' then
      local fmt, s = rawget(f, 'format'), rawget(f, 'string')
      if type(fmt) == 'string' and type(s) == 'string' then
        if client_resp3 then
          buf[#buf + 1] = '=' .. (#s + 4) .. '\r\n' .. string_sub(fmt .. '   ', 1, 3) .. ':' .. s .. '\r\n'
        else
          buf[#buf + 1] = '$' .. #s .. '\r\n' .. s .. '\r\n'
        end
        return
      end
    end
    f = rawget(v, 'map')
    if type(f) == 'table' then
      local head = #buf + 1
      buf[head] = ''
      local n = 0
      for k, val in next, f do
        n = n + 1
        serialize(k, buf, depth + 1)
        serialize(val, buf, depth + 1)
      end
      buf[head] = client_resp3 and ('%' .. n .. '\r\n') or ('*' .. (2 * n) .. '\r\n')
      return
    end
    f = rawget(v, 'set')
    if type(f) == 'table' then
      local head = #buf + 1
      buf[head] = ''
      local n = 0
      for k in next, f do
        n = n + 1
        serialize(k, buf, depth + 1)
      end
      buf[head] = (client_resp3 and '~' or '*') .. n .. '\r\n'
      return
    end
    local head = #buf + 1
    buf[head] = ''
    local n = 0
    while true do
      local item = rawget(v, n + 1)
      if item == nil then break end
      n = n + 1
      serialize(item, buf, depth + 1)
    end
    buf[head] = '*' .. n .. '\r\n'
  else
    buf[#buf + 1] = client_resp3 and '_\r\n' or '$-1\r\n'
  end
end

-- --- the runner -----------------------------------------------------------------------------
-- run(fn, hook_count, resp3_client, nkeys, keys..., args...) returns (kind, payload[, source, line]):
--   0 value (string or number)   1 null   2 status   3 error reply (returned {err=})
--   4 raw RESP bytes             5 script error (raised)
local function finish(ok, res)
  if killing then
    killing = false
    if active_count > 0 then debug_sethook(count_hook, '', active_count) else debug_sethook() end
  end
  if not ok then
    if type(res) ~= 'table' then return 5, 'ERR ' .. tostring(res) end
    return 5, res.err, res.source, res.line
  end
  local t = type(res)
  if t == 'string' or t == 'number' then return 0, res end
  if t == 'table' then
    local f = rawget(res, 'err')
    if type(f) == 'string' then return 3, f end
    f = rawget(res, 'ok')
    if type(f) == 'string' then
      if f == 'OK' then return 2, f end
      local nul = string_find(f, '\0', 1, true)
      if nul then f = string_sub(f, 1, nul - 1) end
      return 2, one_line(f)
    end
  elseif t == 'nil' or (t == 'boolean' and not res and not script_resp3) then
    return 1
  end
  local buf = {}
  local okser, err = pcall(serialize, res, buf, 0)
  if not okser then return 5, 'ERR ' .. tostring(err) end
  return 4, table_concat(buf)
end

local function run(fn, hook_count, resp3, nkeys, ...)
  local keys, argv
  if nkeys == 1 then           -- the commonest shape: no table to trim
    keys, argv = {(...)}, {select(2, ...)}
  elseif nkeys == 0 then
    keys, argv = {}, {...}
  else
    keys, argv = {...}, {select(nkeys + 1, ...)}
    for i = select('#', ...), nkeys + 1, -1 do keys[i] = nil end
  end
  real.KEYS, real.ARGV = keys, argv
  pcall_depth = 0  -- a coroutine left suspended inside a pcall must not count on
  client_resp3, script_resp3, current_fn, plain_error = resp3, false, fn, nil
  if hook_count ~= active_count then
    active_count = hook_count
    if hook_count > 0 then debug_sethook(count_hook, '', hook_count) else debug_sethook() end
  end
  return finish(xpcall(fn, err_handler))
end

return {
  prng_get = prng and prng.getstate,   -- the PRNG state outlives SCRIPT FLUSH, as in Redis
  prng_set = prng and prng.setstate,
  compile = compile_user,
  run = run,
  real = real,
  tail_call_line = tail_call_line,  -- shared with lua/functions_prelude.lua
  -- the Lua debugger (lua/debugger.lua): its redis.breakpoint/redis.debug, and a bridge that
  -- logs redis.call while stepping (swapped in for a session only: no cost otherwise)
  ldb = ldb,
  get_bridge = function() return bridge end,
  set_bridge = function(b) bridge = b end,
}
