-- ledis Lua debugger: Redis's LDB (`SCRIPT DEBUG YES|SYNC`, `redis-cli --ldb`) for EVAL.
--
-- Loaded once per EVAL runtime by ledis/scripting/debugger.py, with lupa's real globals (so
-- `debug` is reachable here and never from a script). Called as chunk(api):
--   entry     the prelude's entry points (run, compile, real, ldb, get_bridge, set_bridge)
--   now()     monotonic seconds (the "timeout reached" stop)
--   rejected  {text = true} of redis.call errors raised before a command runs (logged as a
--             bare "<error>" line, with no "<reply>", as Redis does)
-- Returns {begin, run, finish}: Python opens a session with begin(read, send, source,
-- time_limit), runs the script with run(fn, resp3, nkeys, keys..., args...) and closes it
-- with finish(). read() returns the next debugger command as a table of strings, nil once
-- the client is gone, or an error text (a protocol error); send(lines) writes one reply
-- (Redis's array of status lines).
--
-- It mirrors Redis 7.0's ldb* functions (script_lua.c / eval.c): a line hook stops when
-- stepping, at a breakpoint or after redis.breakpoint(), and then serves the client's commands
-- (the REPL) until one of them resumes the script. Every command answers exactly one reply.
-- The hook also counts instructions: a script running past the time limit without stopping
-- is stopped ("timeout reached, infinite loop?"), so a forgotten loop can still be debugged,
-- and once the client has gone such a script is ended with an error instead of running on.

local api = ...
local entry, now, rejected = api.entry, api.now, api.rejected
local getinfo, getlocal, sethook = debug.getinfo, debug.getlocal, debug.sethook
local format, gsub, sub, byte = string.format, string.gsub, string.sub, string.byte
local lower, match = string.lower, string.match
local concat, unpack = table.concat, unpack
local type, tostring, tonumber, ipairs, next, pcall, error, select, rawget, math_abs =
      type, tostring, tonumber, ipairs, next, pcall, error, select, rawget, math.abs
local table_remove = table.remove

local USER = '@user_script'
local MAX_DEPTH = 9            -- Redis's LDB_MAX_VALUES_DEPTH ((LUA_MINSTACK - 2) / 2)
local MAX_BREAKPOINTS = 64
local HOOK_COUNT = 100000
local ABORTED = 'ERR script aborted for user request'

local S = nil                  -- the open session, or nil

-- --- logging --------------------------------------------------------------------------------
local function log(line) S.logs[#S.logs + 1] = line end

local function send_logs()
  local logs = S.logs
  S.logs = {}
  if not S.gone then S.send(logs) end
end

-- sdscatrepr: a quoted string with C escapes
local ESCAPES = {['\\'] = '\\\\', ['"'] = '\\"', ['\n'] = '\\n', ['\r'] = '\\r',
                 ['\t'] = '\\t', ['\a'] = '\\a', ['\b'] = '\\b'}
local function repr(s)
  return '"' .. gsub(s, '[%c"\\\128-\255]', function(c)
    return ESCAPES[c] or format('\\x%02x', byte(c))
  end) .. '"'
end

local function log_with_maxlen(line)
  local maxlen = S.maxlen
  if maxlen > 0 and #line > maxlen then
    log(sub(line, 1, maxlen) .. ' ...')
    if not S.maxlen_hint_sent then
      S.maxlen_hint_sent = true
      log("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.")
    end
  else
    log(line)
  end
end

-- ldbCatStackValue: a Lua value as the debugger shows it
local function value_text(v, level)
  if level == MAX_DEPTH then return '<max recursion level reached! Nested table?>' end
  level = level + 1
  local t = type(v)
  if t == 'string' then return repr(v) end
  if t == 'boolean' then return v and 'true' or 'false' end
  if t == 'number' then return format('%g', v) end
  if t == 'nil' then return 'nil' end
  if t == 'table' then
    local array, full, expected, is_array = {}, {}, 1, true
    for k, item in next, v do
      if is_array and (type(k) ~= 'number' or k ~= expected) then is_array = false end
      local text = value_text(item, level)
      array[#array + 1] = text
      full[#full + 1] = '[' .. value_text(k, level) .. ']=' .. text
      expected = expected + 1
    end
    return '{' .. concat(is_array and array or full, '; ') .. '}'
  end
  local address = match(tostring(v), '0x%x+') or '?'
  return format('"%s@%s"', t == 'cdata' and 'userdata' or t, address)
end

local function source_line(n)
  local text = S.lines[n]
  if text == nil then return '<out of range source code line>' end
  return text
end

local function log_source_line(n)
  local bp, current = S.bp_set[n], S.currentline == n
  local prefix = (current and bp and '->#') or (current and '-> ') or (bp and '  #') or '   '
  log(format('%s%-3d %s', prefix, n, source_line(n)))
end

-- --- redis.call while stepping: "<redis> ..." and "<reply> ..." lines --------------------------
local function reply_text(v, tag, p)
  if tag == 1 then return repr('+' .. p) end
  if tag == 2 then return repr('-' .. p) end
  local t = type(v)
  if t == 'string' then return repr(v) end
  if t == 'number' then return format('%d', v) end
  if t == 'boolean' then return v and '1' or 'NULL' end
  if t == 'table' then
    local ok, err = rawget(v, 'ok'), rawget(v, 'err')
    if type(ok) == 'string' then return repr('+' .. ok) end
    if type(err) == 'string' then return repr('-' .. err) end
    local parts = {}
    for i = 1, #v do parts[i] = reply_text(v[i]) end
    return '[' .. concat(parts, ',') .. ']'
  end
  return 'NULL'
end

local function arg_text(a)
  if type(a) == 'number' then
    return (a % 1 == 0 and a >= -2^53 and a <= 2^53) and format('%d', a) or format('%.17g', a)
  end
  return a
end

-- (nil, 3, items...) from the bridge (a flat array) as the table redis.call makes of it
local function pack_array(v, tag, p, ...)
  if tag == 3 then return {p, ...} end
  return v, tag, p
end

local base_bridge = entry.get_bridge()   -- the prelude's redis.call bridge (Python)

local function logging_bridge(...)
  local bridge = base_bridge
  if not (S and S.step) then return bridge(...) end
  local n = select('#', ...)
  local valid = n > 0
  for i = 1, n do
    local t = type((select(i, ...)))
    if t ~= 'string' and t ~= 'number' then valid = false end
  end
  if valid then
    local parts = {'<redis>'}
    for i = 1, n do
      if i == 11 then parts[#parts + 1] = format('... (%d more)', n - 10) break end
      parts[#parts + 1] = arg_text((select(i, ...)))
    end
    log(concat(parts, ' '))
  end
  local v, tag, p = pack_array(bridge(...))
  if tag == 2 then
    if rejected[p] or not valid then
      log('<error> ' .. (match(p, '^ERR (.*)$') or p))
      return v, tag, p
    end
    log('<error> -' .. p)
  end
  log_with_maxlen('<reply> ' .. reply_text(v, tag, p))
  return v, tag, p
end

-- --- stack inspection ---------------------------------------------------------------------------
-- The first user-script frame above the caller of this function, as a level for that caller
-- (the hook, the REPL and these helpers sit between it and the script).
local function user_level()
  local level = 3
  while true do
    local info = getinfo(level, 'S')
    if not info then return nil end
    if info.source == USER then return level - 1 end
    level = level + 1
  end
end

local function print_var(name)
  local level = user_level()
  while level do
    local info = getinfo(level, 'S')
    if not info then break end
    if info.source == USER then
      local i = 1
      while true do
        local var, value = getlocal(level, i)
        if var == nil then break end
        if var == name then log_with_maxlen('<value> ' .. value_text(value, 0)) return end
        i = i + 1
      end
    end
    level = level + 1
  end
  if name == 'ARGV' or name == 'KEYS' then
    log_with_maxlen('<value> ' .. value_text(entry.real[name], 0))
  else
    log('No such variable.')
  end
end

local function print_all()
  local level = user_level()
  local vars = 0
  if level then
    local i = 1
    while true do
      local var, value = getlocal(level, i)
      if var == nil then break end
      if var ~= '(*temporary)' then
        log_with_maxlen(format('<value> %s = ', var) .. value_text(value, 0))
        vars = vars + 1
      end
      i = i + 1
    end
  end
  if vars == 0 then log('No local variables in the current context.') end
end

local function trace()
  local level, first = user_level(), true
  while level do
    local info = getinfo(level, 'Snl')
    if not info then break end
    if info.source == USER then
      local name = info.what ~= 'main' and info.name or 'top level'
      log(format('%s %s:', first and 'In' or 'From', name))
      log_source_line(info.currentline)
      first = false
    end
    level = level + 1
  end
  if first then log("<error> Can't retrieve Lua stack.") end
end

-- --- REPL commands --------------------------------------------------------------------------------
local function atoi(s) return tonumber(match(s, '^%s*([-+]?%d+)')) or 0 end

local function list(around, context)
  for j = 1, #S.lines do
    if around == 0 or math_abs(around - j) <= context then log_source_line(j) end
  end
end

local function breakpoints(argv)
  if #argv == 1 then
    if #S.bp == 0 then log("No breakpoints set. Use 'b <line>' to add one.") return end
    log(format('%d breakpoints set:', #S.bp))
    for _, line in ipairs(S.bp) do log_source_line(line) end
    return
  end
  for j = 2, #argv do
    local arg = argv[j]
    local line = match(arg, '^-?%d+$') and tonumber(arg)
    if not line then
      log(format("Invalid argument:'%s'", arg))
    elseif line == 0 then
      S.bp, S.bp_set = {}, {}
      log('All breakpoints removed.')
    elseif line > 0 then
      if #S.bp == MAX_BREAKPOINTS then
        log('Too many breakpoints set.')
      elseif line <= #S.lines and not S.bp_set[line] then
        S.bp[#S.bp + 1], S.bp_set[line] = line, true
        list(line, 1)
      else
        log('Wrong line number.')
      end
    else
      line = -line
      if S.bp_set[line] then
        S.bp_set[line] = nil
        for i, l in ipairs(S.bp) do if l == line then table_remove(S.bp, i) break end end
        log('Breakpoint removed.')
      else
        log('No breakpoint in the specified line.')
      end
    end
  end
end

local function maxlen(argv)
  if #argv == 2 then
    local n = atoi(argv[2])
    S.maxlen_hint_sent = true
    if n ~= 0 and n <= 60 then n = 60 end
    S.maxlen = n
  end
  if S.maxlen ~= 0 then
    log(format('<value> replies are truncated at %d bytes.', S.maxlen))
  else
    log('<value> replies are unlimited.')
  end
end

local function error_text(e)
  if type(e) == 'table' and type(rawget(e, 'err')) == 'string' then return e.err end
  return tostring(e)
end

local function eval(argv)
  local code = concat(argv, ' ', 2)
  -- "return (code)" first: not a tail call, so an error keeps its ldb_eval position (PUC Lua
  -- keeps the frame of a tail call, LuaJIT does not); Redis logs one value anyway.
  local f, err = entry.compile('return (' .. code .. ')', '@ldb_eval')
  if not f then f, err = entry.compile('return ' .. code, '@ldb_eval') end
  if not f then
    f, err = entry.compile(code, '@ldb_eval')
    if not f then log('<error> ' .. tostring(err)) return end
  end
  local ok, value = pcall(f)
  if not ok then log('<error> ' .. error_text(value)) return end
  log_with_maxlen('<retval> ' .. value_text(value, 0))
end

local function redis_command(argv)
  S.step = true            -- logs the call, as a step does
  pcall(entry.real.redis.call, unpack(argv, 2))
  S.step = false
end

local HELP = {
  'Redis Lua debugger help:',
  '[h]elp               Show this help.',
  '[s]tep               Run current line and stop again.',
  '[n]ext               Alias for step.',
  '[c]ontinue           Run till next breakpoint.',
  '[l]ist               List source code around current line.',
  '[l]ist [line]        List source code around [line].',
  '                     line = 0 means: current position.',
  '[l]ist [line] [ctx]  In this form [ctx] specifies how many lines',
  '                     to show before/after [line].',
  "[w]hole              List all source code. Alias for 'list 1 1000000'.",
  '[p]rint              Show all the local variables.',
  '[p]rint <var>        Show the value of the specified variable.',
  '                     Can also show global vars KEYS and ARGV.',
  '[b]reak              Show all breakpoints.',
  '[b]reak <line>       Add a breakpoint to the specified line.',
  '[b]reak -<line>      Remove breakpoint from the specified line.',
  '[b]reak 0            Remove all breakpoints.',
  '[t]race              Show a backtrace.',
  '[e]val <code>        Execute some Lua code (in a different callframe).',
  '[r]edis <cmd>        Execute a Redis command.',
  '[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.',
  '                     Specifying zero as <len> means unlimited.',
  '[a]bort              Stop the execution of the script. In sync',
  '                     mode dataset changes will be retained.',
  '',
  'Debugger functions you can call from Lua scripts:',
  'redis.debug()        Produce logs in the debugger console.',
  'redis.breakpoint()   Stop execution like if there was a breakpoint in the',
  '                     next line of code.',
}

-- Serve the client's commands until one resumes the script. False: the client went away.
local function repl()
  while true do
    local argv = S.read()
    if argv == nil then
      S.gone, S.step, S.bp, S.bp_set = true, false, {}, {}
      return false
    end
    if type(argv) == 'string' then error({err = 'ERR ' .. argv}, 0) end
    local name, argc = lower(argv[1]), #argv
    if name == 'h' or name == 'help' then
      for _, line in ipairs(HELP) do log(line) end
    elseif name == 's' or name == 'step' or name == 'n' or name == 'next' then
      S.step = true
      return true
    elseif name == 'c' or name == 'continue' then
      return true
    elseif name == 't' or name == 'trace' then
      trace()
    elseif name == 'm' or name == 'maxlen' then
      maxlen(argv)
    elseif name == 'b' or name == 'break' then
      breakpoints(argv)
    elseif name == 'e' or name == 'eval' then
      eval(argv)
    elseif name == 'a' or name == 'abort' then
      S.aborting = true
      error({err = ABORTED}, 0)
    elseif argc > 1 and (name == 'r' or name == 'redis') then
      redis_command(argv)
    elseif name == 'p' or name == 'print' then
      if argc == 2 then print_var(argv[2]) else print_all() end
    elseif name == 'l' or name == 'list' then
      local around, context = S.currentline, 5
      if argc > 1 then
        local n = atoi(argv[2])
        if n > 0 then around = n end
      end
      if argc > 2 then context = atoi(argv[3]) end
      list(around, context)
    elseif name == 'w' or name == 'whole' then
      list(1, 1000000)
    else
      log('<error> Unknown Redis Lua debugger command or wrong number of arguments.')
    end
    send_logs()
  end
end

-- --- the hook -----------------------------------------------------------------------------------
local function hook(event, line)
  local s = S
  if not s then return end
  local info = getinfo(2, 'Sl')
  if not info or info.source ~= USER then return end
  -- After "abort", every user line raises again, so a pcall in the script cannot swallow it.
  if s.aborting then error({err = ABORTED}, 0) end
  if event ~= 'line' then line = info.currentline end
  s.currentline = line
  -- redis.breakpoint() stops at the next line: LuaJIT may report its own line again (the rest
  -- of an `if redis.breakpoint() then ... end`), which PUC Lua does not.
  local bp = s.bp_set[line] or (s.luabp and line ~= s.luabp_line)
  local timeout = false
  if event ~= 'line' then
    if s.step or bp then return end       -- the line event of this line stops, not the count
    if now() - s.start < s.time_limit then return end
    timeout, s.step = true, true
  elseif not (s.step or bp) then
    return
  end
  local reason = 'step over'
  if bp then
    reason = s.luabp and 'redis.breakpoint() called' or 'break point'
  elseif timeout then
    reason = 'timeout reached, infinite loop?'
  end
  s.step, s.luabp = false, false
  log(format('* Stopped at %d, stop reason = %s', line, reason))
  log_source_line(line)
  send_logs()
  if not repl() and timeout then
    error({err = 'ERR timeout during Lua debugging with client closing connection'}, 0)
  end
  s.start = now()
end

-- --- redis.breakpoint() / redis.debug() during a session ----------------------------------------
local function session_breakpoint()
  S.luabp, S.luabp_line = true, S.currentline
  return true
end

local function session_debug(...)
  local parts = {}
  for i = 1, select('#', ...) do parts[i] = value_text((select(i, ...)), 0) end
  log(format('<debug> line %d: ', S.currentline) .. concat(parts, ', '))
end

-- --- the session --------------------------------------------------------------------------------
local function begin(read, send, source, time_limit)
  source = gsub(source, '[\r\n]+$', '')
  local lines = {}
  for text in (source .. '\n'):gmatch('([^\n]*)\n') do lines[#lines + 1] = text end
  S = {read = read, send = send, lines = lines, logs = {}, bp = {}, bp_set = {},
       step = true, luabp = false, maxlen = 256, maxlen_hint_sent = false, currentline = -1,
       gone = false, aborting = false, start = now(), time_limit = time_limit,
       ldb_breakpoint = entry.ldb.breakpoint,
       ldb_debug = entry.ldb.debug}
  entry.ldb.breakpoint, entry.ldb.debug = session_breakpoint, session_debug
  entry.set_bridge(logging_bridge)
end

local function run(fn, resp3, nkeys, ...)
  -- The prelude's runner with its count hook off (0); the debugger's hook is set inside, so it
  -- covers the script only.
  local function debugged(...)
    sethook(hook, 'l', HOOK_COUNT)
    local res = fn(...)   -- not a tail call: the prelude finds error lines through this frame
    return res
  end
  S.start = now()
  return entry.run(debugged, 0, resp3, nkeys, ...)
end

local function finish()
  sethook()
  if not S then return end
  log('<endsession>')
  send_logs()
  entry.ldb.breakpoint, entry.ldb.debug = S.ldb_breakpoint, S.ldb_debug
  entry.set_bridge(base_bridge)
  S = nil
end

return {begin = begin, run = run, finish = finish}
