-- Pure-Lua port of lua-cjson 2.1.0 as bundled with Redis (deps/lua/src/lua_cjson.c).
--
-- Same output bytes and error texts as the C module: numbers with %.14g, '/' escaped as '\/',
-- control bytes as \u00xx, bytes >= 0x80 passed through raw, tables with only positive
-- integer keys as arrays (holes -> null) unless excessively sparse, an empty table as {},
-- nesting limits of 1000, strtod-like number parsing (hex, inf, nan accepted by default).
-- cjson.null is a unique sentinel (a userdata when the loader provides newproxy, otherwise a
-- function); decode returns it for JSON null, encode writes it as null.
-- Differences that cannot be fixed here: object key order follows LuaJIT's pairs() order.

local string, math, table = string, math, table
local byte, char, find, sub, format, gsub, lower, match =
      string.byte, string.char, string.find, string.sub, string.format, string.gsub,
      string.lower, string.match
local concat = table.concat
local floor, huge = math.floor, math.huge
local type, pairs, error, pcall, select, tostring, tonumber, setmetatable, getmetatable, rawget =
      type, pairs, error, pcall, select, tostring, tonumber, setmetatable, getmetatable, rawget

local null
if newproxy then   -- luacheck: ignore (only present when the loader puts it in the env)
  null = newproxy(true)
  getmetatable(null).__tostring = function() return 'userdata: (nil)' end
else
  null = function() end
end

local typenames = {['nil'] = 'nil', boolean = 'boolean', number = 'number', string = 'string',
  table = 'table', ['function'] = 'function', userdata = 'userdata', thread = 'thread',
  cdata = 'cdata'}

-- ------------------------------------------------------------------------------------------
-- string escaping (char2escape)
local escapes = {}
for i = 0, 31 do escapes[char(i)] = format('\\u%04x', i) end
escapes['\b'] = '\\b'; escapes['\t'] = '\\t'; escapes['\n'] = '\\n'
escapes['\f'] = '\\f'; escapes['\r'] = '\\r'
escapes['"'] = '\\"'; escapes['\\'] = '\\\\'; escapes['/'] = '\\/'
escapes['\127'] = '\\u007f'
local ESC_PAT = '[%z\1-\31"\\/\127]'

local function quote(s)
  if find(s, ESC_PAT) then s = gsub(s, ESC_PAT, escapes) end
  return '"' .. s .. '"'
end

-- decode tables
local escape2char = {[34] = '"', [92] = '\\', [47] = '/', [98] = '\b', [102] = '\f',
  [110] = '\n', [114] = '\r', [116] = '\t', [117] = 'u'}

local T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL,
      T_COLON, T_COMMA, T_END, T_ERROR = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13
local token_names = {'T_OBJ_BEGIN', 'T_OBJ_END', 'T_ARR_BEGIN', 'T_ARR_END', 'T_STRING',
  'T_NUMBER', 'T_BOOLEAN', 'T_NULL', 'T_COLON', 'T_COMMA', 'T_END', 'T_WHITESPACE', 'T_ERROR',
  'T_UNKNOWN'}
local single = {[123] = T_OBJ_BEGIN, [125] = T_OBJ_END, [91] = T_ARR_BEGIN, [93] = T_ARR_END,
  [44] = T_COMMA, [58] = T_COLON}

local function utf8(cp)
  if cp <= 0x7F then return char(cp) end
  if cp <= 0x7FF then
    return char(0xC0 + floor(cp / 64), 0x80 + cp % 64)
  end
  if cp <= 0xFFFF then
    return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64,
              0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end

local function fail(msg) error(msg, 0) end

-- ------------------------------------------------------------------------------------------
local function new()
  local cjson = {}
  -- configuration (json_config_t defaults)
  local sparse_convert, sparse_ratio, sparse_safe = false, 2, 10
  local encode_max_depth, decode_max_depth = 1000, 1000
  local precision, numfmt = 14, '%.14g'
  local keep_buffer = true
  local encode_invalid = 0       -- 0 off, 1 on, 2 null
  local decode_invalid = true

  -- ---------------------------------------------------------------- encoding
  local function number_text(n, what)
    if n ~= n or n == huge or n == -huge then
      if encode_invalid == 0 then
        fail('Cannot serialise ' .. (what or 'number') .. ': must not be NaN or Inf')
      elseif encode_invalid == 1 then   -- Redis's build prints them with %.14g
        if n ~= n then return 'nan' end
        return n < 0 and '-inf' or 'inf'
      elseif encode_invalid == 2 then
        return 'null'
      end
    end
    return format(numfmt, n)
  end

  local encode_value

  local function encode_table(t, buf, n, depth)
    depth = depth + 1
    if depth > encode_max_depth then
      fail(format('Cannot serialise, excessive nesting (%d)', depth))
    end
    -- lua_array_length
    local max, items = 0, 0
    for k in pairs(t) do
      if type(k) == 'number' and k >= 1 and floor(k) == k then
        -- max is a C int: (int)k for k >= 2^31 gives INT_MIN on x86
        if k > max then max = k < 2147483648 and k or -2147483648 end
        items = items + 1
      else
        max = -1
        break
      end
    end
    if max > 0 and sparse_ratio > 0 and max > items * sparse_ratio and max > sparse_safe then
      if not sparse_convert then
        fail('Cannot serialise table: excessively sparse array')
      end
      max = -1
    end
    if max > 0 then
      n = n + 1; buf[n] = '['
      for i = 1, max do
        if i > 1 then n = n + 1; buf[n] = ',' end
        n = encode_value(rawget(t, i), buf, n, depth)   -- lua_rawgeti
      end
      n = n + 1; buf[n] = ']'
      return n
    end
    n = n + 1; buf[n] = '{'
    local first = true
    for k, v in pairs(t) do
      if first then first = false else n = n + 1; buf[n] = ',' end
      local kt = type(k)
      if kt == 'string' then
        n = n + 1; buf[n] = quote(k) .. ':'
      elseif kt == 'number' then
        n = n + 1; buf[n] = '"' .. number_text(k) .. '":'
      else
        fail('Cannot serialise ' .. typenames[kt] .. ': table key must be a number or string')
      end
      n = encode_value(v, buf, n, depth)
    end
    n = n + 1; buf[n] = '}'
    return n
  end

  encode_value = function(v, buf, n, depth)
    local tv = type(v)
    if tv == 'string' then
      n = n + 1; buf[n] = quote(v)
    elseif tv == 'number' then
      n = n + 1; buf[n] = number_text(v)
    elseif tv == 'table' then
      return encode_table(v, buf, n, depth)
    elseif tv == 'boolean' then
      n = n + 1; buf[n] = v and 'true' or 'false'
    elseif v == nil or v == null then
      n = n + 1; buf[n] = 'null'
    else
      fail('Cannot serialise ' .. typenames[tv] .. ': type not supported')
    end
    return n
  end

  local function encode_impl(v)
    local tv = type(v)
    if tv == 'string' then return quote(v) end
    if tv == 'number' then return number_text(v) end
    local buf = {}
    local n = encode_value(v, buf, 0, 0)
    if n == 1 then return buf[1] end
    return concat(buf, '', 1, n)
  end

  function cjson.encode(...)
    if select('#', ...) ~= 1 then
      return error("bad argument #1 to 'encode' (expected 1 argument)", 1)
    end
    local ok, res = pcall(encode_impl, ...)
    if ok then return res end
    return error(res, 1)
  end

  -- ---------------------------------------------------------------- decoding
  local s, slen = '', 0

  -- strtod() on s at pos: value, end position (exclusive), or nil when nothing parses
  local function strtod(pos)
    local p = pos
    local c = byte(s, p)
    local neg = false
    if c == 45 then neg = true; p = p + 1 elseif c == 43 then p = p + 1 end
    local w = lower(sub(s, p, p + 2))
    if w == 'inf' then
      local e = p + 3
      if lower(sub(s, p, p + 7)) == 'infinity' then e = p + 8 end
      return neg and -huge or huge, e
    elseif w == 'nan' then
      local e = match(s, '^%([%w_]*%)()', p + 3) or p + 3
      return 0 / 0, e
    end
    c = byte(s, p)
    if c == 48 then
      local x = byte(s, p + 1)
      if x == 120 or x == 88 then
        local ip, fp, e = match(s, '^(%x*)%.?(%x*)()', p + 2)
        if ip ~= '' or fp ~= '' then
          local v = tonumber(ip .. fp, 16) * 2 ^ (-4 * #fp)
          local ex, e2 = match(s, '^[pP]([-+]?%d+)()', e)
          if ex then v = v * 2 ^ tonumber(ex); e = e2 end
          if neg then v = -v end
          return v, e
        end
        return neg and -0.0 or 0, p + 1
      end
    end
    local ip, fp, e = match(s, '^(%d*)%.?(%d*)()', p)
    if ip == '' and fp == '' then return nil end
    local e2 = match(s, '^[eE][-+]?%d+()', e)
    if e2 then e = e2 end
    local v = tonumber(sub(s, p, e - 1))
    if neg then v = -v end
    return v, e
  end

  local function is_invalid_number(pos)
    local p = pos
    local c = byte(s, p)
    if c == 43 then return true end
    if c == 45 then p = p + 1; c = byte(s, p) end
    if c == 48 then
      local c2 = byte(s, p + 1)
      return c2 == 120 or c2 == 88 or (c2 ~= nil and c2 >= 48 and c2 <= 57)
    elseif c == nil or c <= 57 then
      return false
    end
    local w = lower(sub(s, p, p + 2))
    return w == 'inf' or w == 'nan'
  end

  local function lex_number(pos)
    -- fast path: plain integer not followed by . e E x X
    local e = match(s, '^-?%d+()', pos)
    if e then
      local c = byte(s, e)
      if c ~= 46 and c ~= 101 and c ~= 69 and c ~= 120 and c ~= 88 then
        return T_NUMBER, tonumber(sub(s, pos, e - 1)), pos, e
      end
    end
    local v
    v, e = strtod(pos)
    if v == nil then return T_ERROR, 'invalid number', pos, pos end
    return T_NUMBER, v, pos, e
  end

  local function lex_string(pos)
    local i = pos + 1
    local e = find(s, '["\\%z]', i)
    if e and byte(s, e) == 34 then return T_STRING, sub(s, i, e - 1), pos, e + 1 end
    local parts, np = {}, 0
    while true do
      if not e then return T_ERROR, 'unexpected end of string', slen + 1, slen + 1 end
      local c = byte(s, e)
      if c == 34 then
        np = np + 1; parts[np] = sub(s, i, e - 1)
        return T_STRING, concat(parts, '', 1, np), pos, e + 1
      elseif c == 0 then
        return T_ERROR, 'unexpected end of string', e, e
      end
      np = np + 1; parts[np] = sub(s, i, e - 1)
      local r = escape2char[byte(s, e + 1)]
      if r == 'u' then
        local h = sub(s, e + 2, e + 5)
        local cp = find(h, '^%x%x%x%x$') and tonumber(h, 16)
        local adv = 6
        if cp and cp >= 0xD800 and cp < 0xE000 then
          if cp >= 0xDC00 or sub(s, e + 6, e + 7) ~= '\\u' then
            cp = nil
          else
            local h2 = sub(s, e + 8, e + 11)
            local lo = find(h2, '^%x%x%x%x$') and tonumber(h2, 16)
            if lo and lo >= 0xDC00 and lo < 0xE000 then
              cp = (cp - 0xD800) * 1024 + (lo - 0xDC00) + 0x10000
              adv = 12
            else
              cp = nil
            end
          end
        end
        if not cp then return T_ERROR, 'invalid unicode escape code', e, e end
        np = np + 1; parts[np] = utf8(cp)
        i = e + adv
      elseif r then
        np = np + 1; parts[np] = r
        i = e + 2
      else
        return T_ERROR, 'invalid escape code', e, e
      end
      e = find(s, '["\\%z]', i)
    end
  end

  -- next token at/after pos: type, value, index (1-based), next position
  local function next_token(pos)
    pos = find(s, '[^ \t\n\r]', pos)
    if not pos then return T_END, nil, slen + 1, slen + 1 end
    local c = byte(s, pos)
    local t = single[c]
    if t then return t, nil, pos, pos + 1 end
    if c == 34 then return lex_string(pos) end
    if c == 45 or (c >= 48 and c <= 57) then
      if not decode_invalid and is_invalid_number(pos) then
        return T_ERROR, 'invalid number', pos, pos
      end
      return lex_number(pos)
    end
    if c == 0 then return T_END, nil, pos, pos end
    if c == 116 then
      if sub(s, pos, pos + 3) == 'true' then return T_BOOLEAN, true, pos, pos + 4 end
    elseif c == 102 then
      if sub(s, pos, pos + 4) == 'false' then return T_BOOLEAN, false, pos, pos + 5 end
    elseif c == 110 then
      if sub(s, pos, pos + 3) == 'null' then return T_NULL, nil, pos, pos + 4 end
    end
    if decode_invalid and (c == 43 or c == 105 or c == 73 or c == 110 or c == 78)
        and is_invalid_number(pos) then
      return lex_number(pos)
    end
    return T_ERROR, 'invalid token', pos, pos
  end

  local function throw(expected, tt, tv, ti)
    local found = tt == T_ERROR and tv or token_names[tt]
    fail(format('Expected %s but found %s at character %d', expected, found, ti))
  end

  local process_value

  local function parse_object(pos, depth)
    depth = depth + 1
    if depth > decode_max_depth then
      fail(format('Found too many nested data structures (%d) at character %d', depth, pos - 1))
    end
    local t = {}
    local tt, tv, ti, np = next_token(pos)
    if tt == T_OBJ_END then return t, np end
    while true do
      if tt ~= T_STRING then throw('object key string', tt, tv, ti) end
      local key = tv
      tt, tv, ti, np = next_token(np)
      if tt ~= T_COLON then throw('colon', tt, tv, ti) end
      tt, tv, ti, np = next_token(np)
      local val
      val, np = process_value(tt, tv, ti, np, depth)
      t[key] = val
      tt, tv, ti, np = next_token(np)
      if tt == T_OBJ_END then return t, np end
      if tt ~= T_COMMA then throw('comma or object end', tt, tv, ti) end
      tt, tv, ti, np = next_token(np)
    end
  end

  local function parse_array(pos, depth)
    depth = depth + 1
    if depth > decode_max_depth then
      fail(format('Found too many nested data structures (%d) at character %d', depth, pos - 1))
    end
    local t = {}
    local tt, tv, ti, np = next_token(pos)
    if tt == T_ARR_END then return t, np end
    local i = 0
    while true do
      local val
      val, np = process_value(tt, tv, ti, np, depth)
      i = i + 1
      t[i] = val
      tt, tv, ti, np = next_token(np)
      if tt == T_ARR_END then return t, np end
      if tt ~= T_COMMA then throw('comma or array end', tt, tv, ti) end
      tt, tv, ti, np = next_token(np)
    end
  end

  process_value = function(tt, tv, ti, np, depth)
    if tt == T_STRING or tt == T_NUMBER or tt == T_BOOLEAN then return tv, np end
    if tt == T_OBJ_BEGIN then return parse_object(np, depth) end
    if tt == T_ARR_BEGIN then return parse_array(np, depth) end
    if tt == T_NULL then return null, np end
    throw('value', tt, tv, ti)
  end

  local function decode_impl(str)
    s, slen = str, #str
    if slen >= 2 and (byte(str, 1) == 0 or byte(str, 2) == 0) then
      fail('JSON parser does not support UTF-16 or UTF-32')
    end
    local tt, tv, ti, np = next_token(1)
    local v
    v, np = process_value(tt, tv, ti, np, 0)
    tt, tv, ti = next_token(np)
    if tt ~= T_END then throw('the end', tt, tv, ti) end
    s = ''
    return v
  end

  function cjson.decode(...)
    local n = select('#', ...)
    if n ~= 1 then return error("bad argument #1 to 'decode' (expected 1 argument)", 1) end
    local str = ...
    local ts = type(str)
    if ts == 'number' then
      str = tostring(str)
    elseif ts ~= 'string' then
      return error("bad argument #1 to 'decode' (string expected, got " .. typenames[ts] .. ")", 1)
    end
    local ok, res = pcall(decode_impl, str)
    s = ''
    if ok then return res end
    return error(res, 1)
  end

  -- ---------------------------------------------------------------- configuration
  local function check_count(fname, nargs, max)
    if nargs > max then
      error(format("bad argument #%d to '%s' (found too many arguments)", max + 1, fname), 0)
    end
  end

  -- json_integer_option: nil keeps the setting; returns the (new) value
  local function integer_option(fname, v, argn, cur, min, max)
    if v == nil then return cur end
    local n = tonumber(v)
    if type(v) ~= 'number' and (type(v) ~= 'string' or n == nil) then
      error(format("bad argument #%d to '%s' (number expected, got %s)", argn, fname,
        typenames[type(v)]), 0)
    end
    if n >= 0 then n = floor(n) else n = -floor(-n) end
    if not (min <= n and n <= max) then
      error(format("bad argument #1 to '%s' (expected integer between %d and %d)", fname, min, max), 0)
    end
    return n
  end

  -- json_enum_option; options is a list of names (index 0-based like the C array)
  local BOOL_OPTS = {'off', 'on'}
  local function enum_option(fname, v, argn, cur, options, bool_true)
    if not options then options = BOOL_OPTS; bool_true = 1 end
    if v ~= nil then
      if bool_true and type(v) == 'boolean' then
        cur = v and bool_true or 0
      else
        local sv = v
        if type(v) == 'number' then sv = tostring(v) end
        if type(sv) ~= 'string' then
          error(format("bad argument #%d to '%s' (string expected, got %s)", argn, fname,
            typenames[type(v)]), 0)
        end
        local found
        for i = 1, #options do if options[i] == sv then found = i - 1 break end end
        if not found then
          error(format("bad argument #%d to '%s' (invalid option '%s')", argn, fname, sv), 0)
        end
        cur = found
      end
    end
    local out
    if bool_true and (cur == 0 or cur == bool_true) then out = cur ~= 0
    else out = options[cur + 1] end
    return cur, out
  end

  local function opt_encode_sparse_array(...)
    local nargs = select('#', ...)
    check_count('encode_sparse_array', nargs, 3)
    local convert, ratio, safe = ...
    local cur, out = enum_option('encode_sparse_array', convert, 1, sparse_convert and 1 or 0)
    sparse_convert = cur ~= 0
    sparse_ratio = integer_option('encode_sparse_array', ratio, 2, sparse_ratio, 0, 2147483647)
    sparse_safe = integer_option('encode_sparse_array', safe, 3, sparse_safe, 0, 2147483647)
    return out, sparse_ratio, sparse_safe
  end

  local function opt_encode_max_depth(...)
    check_count('encode_max_depth', select('#', ...), 1)
    encode_max_depth = integer_option('encode_max_depth', (...), 1, encode_max_depth, 1, 2147483647)
    return encode_max_depth
  end

  local function opt_decode_max_depth(...)
    check_count('decode_max_depth', select('#', ...), 1)
    decode_max_depth = integer_option('decode_max_depth', (...), 1, decode_max_depth, 1, 2147483647)
    return decode_max_depth
  end

  local function opt_encode_number_precision(...)
    check_count('encode_number_precision', select('#', ...), 1)
    precision = integer_option('encode_number_precision', (...), 1, precision, 1, 14)
    numfmt = '%.' .. precision .. 'g'
    return precision
  end

  local function opt_encode_keep_buffer(...)
    check_count('encode_keep_buffer', select('#', ...), 1)
    local cur, out = enum_option('encode_keep_buffer', (...), 1, keep_buffer and 1 or 0)
    keep_buffer = cur ~= 0
    return out
  end

  local INVALID_OPTS = {'off', 'on', 'null'}
  local function opt_encode_invalid_numbers(...)
    check_count('encode_invalid_numbers', select('#', ...), 1)
    local cur, out = enum_option('encode_invalid_numbers', (...), 1, encode_invalid, INVALID_OPTS, 1)
    encode_invalid = cur
    return out
  end

  local function opt_decode_invalid_numbers(...)
    check_count('decode_invalid_numbers', select('#', ...), 1)
    local cur, out = enum_option('decode_invalid_numbers', (...), 1, decode_invalid and 1 or 0)
    decode_invalid = cur ~= 0
    return out
  end

  -- errors from the option helpers are raised from the caller's position, like luaL_error
  local function guarded(f)
    return function(...)
      local ok, a, b, c = pcall(f, ...)
      if not ok then return error(a, 1) end
      if f == opt_encode_sparse_array then return a, b, c end
      return a
    end
  end
  cjson.encode_sparse_array = guarded(opt_encode_sparse_array)
  cjson.encode_max_depth = guarded(opt_encode_max_depth)
  cjson.decode_max_depth = guarded(opt_decode_max_depth)
  cjson.encode_number_precision = guarded(opt_encode_number_precision)
  cjson.encode_keep_buffer = guarded(opt_encode_keep_buffer)
  cjson.encode_invalid_numbers = guarded(opt_encode_invalid_numbers)
  cjson.decode_invalid_numbers = guarded(opt_decode_invalid_numbers)

  cjson.new = new
  cjson.null = null
  cjson._NAME = 'cjson'
  cjson._VERSION = '2.1.0'
  return cjson
end

return new()
