-- Pure-Lua port of lua-cmsgpack 0.4.0 as bundled with Redis (deps/lua/src/lua_cmsgpack.c).
--
-- pack(...) concatenates the encodings of its arguments. Encoding choices follow the C code:
-- integral numbers in int64 range use the smallest (u)int form (fixint, negative fixint,
-- u8..u64 / i8..i64); other numbers are float32 (0xca) when (double)(float)d == d, else
-- float64 (0xcb); strings use fixstr/str8/str16/str32; tables whose keys are exactly 1..n
-- are arrays (an empty table is an empty array), others maps; tables nested 16 deep, and
-- every non-serialisable value, pack as nil. unpack / unpack_one / unpack_limit decode
-- (bin and ext types are "Bad data format in input.").

local string, math, table = string, math, table
local byte, char, sub = string.byte, string.char, string.sub
local concat = table.concat
local floor, frexp, ldexp, huge = math.floor, math.frexp, math.ldexp, math.huge
local type, pairs, error, select, tonumber, tostring, pcall =
      type, pairs, error, select, tonumber, tostring, pcall

local MAX_NESTING = 16
local TWO32 = 4294967296

local typenames = {['nil'] = 'nil', boolean = 'boolean', number = 'number', string = 'string',
  table = 'table', ['function'] = 'function', userdata = 'userdata', thread = 'thread',
  cdata = 'cdata'}

-- ------------------------------------------------------------------------------------------
-- byte helpers (big endian)
local function u16(n) return char(floor(n / 256), n % 256) end
local function u32(n)
  return char(floor(n / 16777216), floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
end

-- 64-bit two's complement of an integral double in [-2^63, 2^63)
local function i64(n)
  if n < 0 then n = n + 18446744073709551616 end  -- exact for |n| <= 2^53, else rounds
  local hi = floor(n / TWO32)
  local lo = n - hi * TWO32
  if hi >= TWO32 then hi = hi - TWO32 end
  return u32(hi) .. u32(lo)
end

-- exact negative int64 bytes (n < 0, integral): two's complement without going through 2^64
local function neg_i64(n)
  local hi = floor(n / TWO32)          -- negative, exact
  local lo = n - hi * TWO32            -- 0 <= lo < 2^32, exact
  return u32(hi + TWO32) .. u32(lo)
end

-- float32 bits of d when d is exactly representable as a float32, else nil
local function float32_exact(d)
  if d ~= d then return nil end
  local sign = 0
  if d < 0 or 1 / d < 0 then sign = 0x80000000; d = -d end
  if d == huge then return sign + 0x7F800000 end
  if d == 0 then return sign end
  if d >= 3.4028235677973366e38 then return nil end       -- > FLT_MAX
  local m, e = frexp(d)                                    -- d = m * 2^e, 0.5 <= m < 1
  local E = e + 126
  if E >= 1 then
    local mant = m * 16777216                              -- 24 significant bits
    if mant ~= floor(mant) then return nil end
    return sign + (E - 1) * 8388608 + mant
  end
  local mant = ldexp(d, 149)                               -- subnormal
  if mant ~= floor(mant) then return nil end
  return sign + mant
end

-- float64 bytes of d
local function float64(d)
  local hi, lo
  if d ~= d then return '\255\248\0\0\0\0\0\0' end        -- x86 default NaN
  local sign = 0
  if d < 0 or 1 / d < 0 then sign = 0x80000000; d = -d end
  if d == huge then
    hi, lo = 0x7FF00000, 0
  elseif d == 0 then
    hi, lo = 0, 0
  else
    local m, e = frexp(d)
    local E = e + 1022
    local mant
    if E >= 1 then
      mant = (m * 2 - 1) * 4503599627370496                -- 52-bit fraction
    else
      E = 0
      mant = ldexp(d, 1074)
    end
    local mh = floor(mant / TWO32)
    hi = E * 1048576 + mh
    lo = mant - mh * TWO32
  end
  return u32(sign + hi) .. u32(lo)
end

-- ------------------------------------------------------------------------------------------
-- encoding
local function encode_int(n)
  if n >= 0 then
    if n <= 127 then return char(n) end
    if n <= 0xFF then return '\204' .. char(n) end
    if n <= 0xFFFF then return '\205' .. u16(n) end
    if n <= 0xFFFFFFFF then return '\206' .. u32(n) end
    local hi = floor(n / TWO32)
    return '\207' .. u32(hi) .. u32(n - hi * TWO32)
  end
  if n >= -32 then return char(n + 256) end
  if n >= -128 then return '\208' .. char(n + 256) end
  if n >= -32768 then return '\209' .. u16(n + 65536) end
  if n >= -2147483648 then return '\210' .. u32(n + TWO32) end
  return '\211' .. neg_i64(n)
end

local function encode_number(n)
  -- IS_INT64_EQUIVALENT: !isinf(n) && (int64_t)n == n
  if n == floor(n) and n >= -9223372036854775808 and n < 9223372036854775808 then
    return encode_int(n)
  end
  local f = float32_exact(n)
  if f then
    return '\202' .. u32(f)
  end
  return '\203' .. float64(n)
end

local function encode_string(s)
  local len = #s
  if len < 32 then return char(0xA0 + len) .. s end
  if len <= 0xFF then return '\217' .. char(len) .. s end
  if len <= 0xFFFF then return '\218' .. u16(len) .. s end
  return '\219' .. u32(len) .. s
end

local encode_value

local function encode_table(t, buf, n, level)
  -- table_is_an_array: every key a number, > 0, integral and within a C int; count == max
  local count, max, is_array = 0, 0, true
  for k in pairs(t) do
    if type(k) ~= 'number' or k <= 0 or k ~= floor(k) or k >= 2147483648 then
      is_array = false
      break
    end
    if k > max then max = k end
    count = count + 1
  end
  if is_array and max == count then
    local len = #t
    n = n + 1
    if len <= 15 then buf[n] = char(0x90 + len)
    elseif len <= 0xFFFF then buf[n] = '\220' .. u16(len)
    else buf[n] = '\221' .. u32(len) end
    for j = 1, len do
      n = encode_value(t[j], buf, n, level + 1)
    end
    return n
  end
  local len = 0
  for _ in pairs(t) do len = len + 1 end
  n = n + 1
  if len <= 15 then buf[n] = char(0x80 + len)
  elseif len <= 0xFFFF then buf[n] = '\222' .. u16(len)
  else buf[n] = '\223' .. u32(len) end
  for k, v in pairs(t) do
    n = encode_value(k, buf, n, level + 1)
    n = encode_value(v, buf, n, level + 1)
  end
  return n
end

encode_value = function(v, buf, n, level)
  local t = type(v)
  if t == 'string' then
    n = n + 1; buf[n] = encode_string(v)
  elseif t == 'number' then
    n = n + 1; buf[n] = encode_number(v)
  elseif t == 'table' then
    if level == MAX_NESTING then
      n = n + 1; buf[n] = '\192'
    else
      return encode_table(v, buf, n, level)
    end
  elseif t == 'boolean' then
    n = n + 1; buf[n] = v and '\195' or '\194'
  else
    n = n + 1; buf[n] = '\192'
  end
  return n
end

local function pack(...)
  local nargs = select('#', ...)
  if nargs == 0 then
    return error("bad argument #0 to 'pack' (MessagePack pack needs input.)", 1)
  end
  local buf, n = {}, 0
  for i = 1, nargs do
    n = encode_value((select(i, ...)), buf, n, 0)
  end
  return concat(buf, '', 1, n)
end

-- ------------------------------------------------------------------------------------------
-- decoding. Errors are raised as the two C texts; positions are 1-based.
local EOF, BADFMT = 'Missing bytes in input.', 'Bad data format in input.'
local s, slen = '', 0

local function fail(msg) error(msg, 0) end

local function need(pos, n)
  if pos + n - 1 > slen then fail(EOF) end
end

local function rd_u16(p) local a, b = byte(s, p, p + 1) return a * 256 + b end
local function rd_u32(p)
  local a, b, c, d = byte(s, p, p + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function float32_from(bits)
  local sign = 1
  if bits >= 0x80000000 then sign = -1; bits = bits - 0x80000000 end
  local E = floor(bits / 8388608)
  local f = bits % 8388608
  if E == 255 then
    if f == 0 then return sign * huge end
    return 0 / 0
  end
  if E == 0 then return sign * ldexp(f, -149) end
  return sign * ldexp(f + 8388608, E - 150)
end

local function float64_from(hi, lo)
  local sign = 1
  if hi >= 0x80000000 then sign = -1; hi = hi - 0x80000000 end
  local E = floor(hi / 1048576)
  local mant = (hi % 1048576) * TWO32 + lo
  if E == 2047 then
    if mant == 0 then return sign * huge end
    return 0 / 0
  end
  if E == 0 then return sign * ldexp(mant, -1074) end
  return sign * ldexp(mant + 4503599627370496, E - 1075)
end

-- signed 64-bit from two words, rounded like (double)(int64_t)
local function int64_from(hi, lo)
  if hi >= 0x80000000 then return (hi - TWO32) * TWO32 + lo end
  return hi * TWO32 + lo
end

local decode_value

local function decode_array(pos, len)
  local t = {}
  for i = 1, len do
    local v
    v, pos = decode_value(pos)
    t[i] = v
  end
  return t, pos
end

local function decode_map(pos, len)
  local t = {}
  for _ = 1, len do
    local k, v
    k, pos = decode_value(pos)
    v, pos = decode_value(pos)
    if k == nil then fail('table index is nil') end
    if k ~= k then fail('table index is NaN') end
    t[k] = v
  end
  return t, pos
end

-- returns value, next position
decode_value = function(pos)
  need(pos, 1)
  local c = byte(s, pos)
  if c < 0x80 then return c, pos + 1 end
  if c >= 0xE0 then return c - 256, pos + 1 end
  if c >= 0xA0 and c <= 0xBF then
    local l = c - 0xA0
    need(pos, 1 + l)
    return sub(s, pos + 1, pos + l), pos + 1 + l
  end
  if c >= 0x90 and c <= 0x9F then return decode_array(pos + 1, c - 0x90) end
  if c >= 0x80 and c <= 0x8F then return decode_map(pos + 1, c - 0x80) end
  if c == 0xC0 then return nil, pos + 1 end
  if c == 0xC3 then return true, pos + 1 end
  if c == 0xC2 then return false, pos + 1 end
  if c == 0xCC then need(pos, 2) return byte(s, pos + 1), pos + 2 end
  if c == 0xD0 then
    need(pos, 2)
    local v = byte(s, pos + 1)
    if v >= 128 then v = v - 256 end
    return v, pos + 2
  end
  if c == 0xCD then need(pos, 3) return rd_u16(pos + 1), pos + 3 end
  if c == 0xD1 then
    need(pos, 3)
    local v = rd_u16(pos + 1)
    if v >= 32768 then v = v - 65536 end
    return v, pos + 3
  end
  if c == 0xCE then need(pos, 5) return rd_u32(pos + 1), pos + 5 end
  if c == 0xD2 then
    need(pos, 5)
    local v = rd_u32(pos + 1)
    if v >= 0x80000000 then v = v - TWO32 end
    return v, pos + 5
  end
  if c == 0xCF or c == 0xD3 then   -- both go through a signed lua_Integer
    need(pos, 9)
    return int64_from(rd_u32(pos + 1), rd_u32(pos + 5)), pos + 9
  end
  if c == 0xCA then need(pos, 5) return float32_from(rd_u32(pos + 1)), pos + 5 end
  if c == 0xCB then
    need(pos, 9)
    return float64_from(rd_u32(pos + 1), rd_u32(pos + 5)), pos + 9
  end
  if c == 0xD9 then
    need(pos, 2)
    local l = byte(s, pos + 1)
    need(pos, 2 + l)
    return sub(s, pos + 2, pos + 1 + l), pos + 2 + l
  end
  if c == 0xDA then
    need(pos, 3)
    local l = rd_u16(pos + 1)
    need(pos, 3 + l)
    return sub(s, pos + 3, pos + 2 + l), pos + 3 + l
  end
  if c == 0xDB then
    need(pos, 5)
    local l = rd_u32(pos + 1)
    need(pos, 5 + l)
    return sub(s, pos + 5, pos + 4 + l), pos + 5 + l
  end
  if c == 0xDC then need(pos, 3) return decode_array(pos + 3, rd_u16(pos + 1)) end
  if c == 0xDD then need(pos, 5) return decode_array(pos + 5, rd_u32(pos + 1)) end
  if c == 0xDE then need(pos, 3) return decode_map(pos + 3, rd_u16(pos + 1)) end
  if c == 0xDF then need(pos, 5) return decode_map(pos + 5, rd_u32(pos + 1)) end
  fail(BADFMT)
end

-- mp_unpack_full: decode up to limit values from offset (0-based). Returns nil, message on
-- error, else the values (preceded by the next offset, or -1 at the end, unless decoding
-- everything) as (out, first, last).
local function unpack_full(fname, str, limit, offset)
  local ts = type(str)
  if ts == 'number' then str = tostring(str)
  elseif ts ~= 'string' then
    return nil, "bad argument #1 to '" .. fname .. "' (string expected, got " ..
      (ts == 'nil' and 'no value' or typenames[ts]) .. ")"
  end
  local len = #str
  local decode_all = limit == 0 and offset == 0
  if offset < 0 or limit < 0 then
    return nil, string.format('Invalid request to unpack with offset of %d and limit of %d.',
      offset, len)
  elseif offset > len then
    return nil, string.format('Start offset %d greater than input length %d.', offset, len)
  end
  if decode_all then limit = 2147483647 end
  s, slen = str, len
  local out, cnt, pos = {0}, 1, offset + 1
  local ok, err = pcall(function()
    while pos <= slen and cnt <= limit do
      local v
      v, pos = decode_value(pos)
      cnt = cnt + 1
      out[cnt] = v
    end
  end)
  s = ''
  if not ok then return nil, err end
  if decode_all then return out, 2, cnt end
  out[1] = pos - 1 == len and -1 or (pos - 1)
  return out, 1, cnt
end

-- luaL_checkinteger / luaL_optinteger (error text or the C int)
local function checkinteger(fname, v, argn, opt)
  if v == nil and opt then return 0 end
  local n = tonumber(v)
  if type(v) ~= 'number' and (type(v) ~= 'string' or n == nil) then
    return nil, "bad argument #" .. argn .. " to '" .. fname .. "' (number expected, got " ..
      (v == nil and 'no value' or typenames[type(v)]) .. ")"
  end
  if n >= 0 then n = floor(n) else n = -floor(-n) end
  n = n % TWO32                                    -- C int
  if n >= 2147483648 then n = n - TWO32 end
  return n
end

local function unpack_all(str)
  local out, i, j = unpack_full('unpack', str, 0, 0)
  if not out then return error(i, 1) end
  return unpack(out, i, j)
end

local function unpack_one(str, offset)
  local o, err = checkinteger('unpack_one', offset, 2, true)
  if not o then return error(err, 1) end
  local out, i, j = unpack_full('unpack_one', str, 1, o)
  if not out then return error(i, 1) end
  return unpack(out, i, j)
end

local function unpack_limit(str, limit, offset)
  local l, err = checkinteger('unpack_limit', limit, 2, false)
  if not l then return error(err, 1) end
  local o
  o, err = checkinteger('unpack_limit', offset, 3, true)
  if not o then return error(err, 1) end
  local out, i, j = unpack_full('unpack_limit', str, l, o)
  if not out then return error(i, 1) end
  return unpack(out, i, j)
end

return {
  pack = pack,
  unpack = unpack_all,
  unpack_one = unpack_one,
  unpack_limit = unpack_limit,
  _NAME = 'cmsgpack',
  _VERSION = 'lua-cmsgpack 0.4.0',
  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo',
  _DESCRIPTION = 'MessagePack C implementation for Lua',
}
