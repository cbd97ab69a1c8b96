-- Pure-Lua port of Roberto Ierusalimschy's struct library as bundled with Redis
-- (deps/lua/src/lua_struct.c, x86-64: native little endian, long = size_t = 8, int = 4).
--
-- Formats: '>' big endian, '<' little endian, '!n' max alignment n (default 8), ' ' ignored,
-- 'x' pad byte, 'b/B' char, 'h/H' short, 'l/L' long (8), 'T' size_t (8), 'i/In' int of n bytes
-- (default 4, at most 32), 'cn' n chars (c0 on unpack: size taken from the previous value),
-- 's' zero-terminated string, 'f' float, 'd' double. Lower case integer formats are signed.
-- unpack(fmt, data [, pos]) returns the values then the next position.

local string, math = string, math
local byte, char, sub, find, format, rep = string.byte, string.char, string.sub, string.find,
  string.format, string.rep
local floor, frexp, ldexp, huge = math.floor, math.frexp, math.ldexp, math.huge
local type, error, select, tonumber, tostring, concat =
      type, error, select, tonumber, tostring, table.concat

local band = bit.band
local MAXINTSIZE, MAXALIGN = 32, 8
local TWO32 = 4294967296
local TWO64 = 18446744073709551616

local typenames = {['nil'] = 'nil', boolean = 'boolean', number = 'number', string = 'string',
  table = 'table', ['function'] = 'function', userdata = 'userdata', thread = 'thread',
  cdata = 'cdata'}

local sizes = {B = 1, b = 1, H = 2, h = 2, L = 8, l = 8, T = 8, f = 4, d = 8, x = 1}
local is_int = {b = true, B = true, h = true, H = true, l = true, L = true, T = true,
  i = true, I = true}

-- Each public function raises return error(msg, 1) from its own frame: helpers return an error text.
local E = {}   -- marker: helpers return E, msg on error

-- getnum: digits at fmt[i..]: value, next index (or default)
local function getnum(fmt, i, df)
  local d = find(fmt, '^%d+', i)
  if not d then return df, i end
  local _, e = find(fmt, '^%d+', i)
  local a = 0
  for j = i, e do
    local c = byte(fmt, j) - 48
    if a > 214748364 or a * 10 > 2147483647 - c then
      return E, 'integral size overflow'
    end
    a = a * 10 + c
  end
  return a, e + 1
end

-- optsize: size of option opt, next index
local function optsize(opt, fmt, i)
  local sz = sizes[opt]
  if sz then return sz, i end
  if opt == 'c' then return getnum(fmt, i, 1) end
  if opt == 'i' or opt == 'I' then
    local n, j = getnum(fmt, i, 4)
    if n == E then return n, j end
    if n > MAXINTSIZE then
      return E, format('integral size %d is larger than limit of %d', n, MAXINTSIZE)
    end
    return n, j
  end
  return 0, i
end

local function gettoalign(len, align, opt, size)
  if size == 0 or opt == 'c' then return 0 end
  if size > align then size = align end
  -- (size - (len & (size - 1))) & (size - 1), as the C code (size need not be a power of 2)
  return band(size - band(len, size - 1), size - 1)
end

-- controloptions: new (little, align, i) or E, msg
local function controloptions(fname, opt, fmt, i, little, align)
  if opt == ' ' then return little, align, i end
  if opt == '>' then return false, align, i end
  if opt == '<' then return true, align, i end
  if opt == '!' then
    local a, j = getnum(fmt, i, MAXALIGN)
    if a == E then return E, j end
    -- isp2: a > 0 and (a & (a - 1)) == 0 (getnum never returns a negative number)
    local x = a
    while x > 1 and x % 2 == 0 do x = x / 2 end
    if a < 1 or x ~= 1 then return E, format('alignment %d is not a power of 2', a) end
    return little, a, j
  end
  return E, format("bad argument #1 to '%s' (invalid format option '%s')", fname, opt)
end

-- luaL_checknumber
local function checknumber(fname, v, argn, top)
  local n = tonumber(v)
  if type(v) ~= 'number' and (type(v) ~= 'string' or n == nil) then
    return nil, format("bad argument #%d to '%s' (number expected, got %s)", argn, fname,
      (v == nil and (top == nil or argn > top)) and 'no value' or typenames[type(v)])
  end
  return n
end

-- integer bytes (putinteger): n truncated toward zero, two's complement in 64 bits,
-- bytes beyond the 8th are zero.
local function int_bytes(n, size, little)
  if n >= 0 then n = floor(n) else n = -floor(-n) end
  local hi, lo
  if n ~= n or n < -9223372036854775808 then
    hi, lo = 0x80000000, 0      -- cvttsd2si "integer indefinite"
  elseif n >= TWO64 then
    hi, lo = 0, 0               -- gcc's double -> uint64 sequence gives 0
  else
    if n >= 0 then
      hi = floor(n / TWO32)
    else
      hi = floor(n / TWO32) + TWO32
    end
    lo = n % TWO32
    if hi >= TWO32 then hi = hi - TWO32 end
  end
  local b = {}
  for k = 1, size do
    local v
    if k <= 4 then v = lo % 256; lo = floor(lo / 256)
    elseif k <= 8 then v = hi % 256; hi = floor(hi / 256)
    else v = 0 end
    b[k] = v
  end
  if little then
    return char(unpack(b, 1, size))
  end
  local r = {}
  for k = 1, size do r[k] = b[size + 1 - k] end
  return char(unpack(r, 1, size))
end

local function round_even(x)
  local f = floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then return f + 1 end
  return f
end

-- (float)d as bits
local function float32_bits(d)
  if d ~= d then return 0xFFC00000 end       -- (float) of the x86 default NaN
  local sign = 0
  if d < 0 or 1 / d < 0 then sign = 0x80000000; d = -d end
  if d == huge then return sign + 0x7F800000 end
  if d == 0 then return sign end
  local m, e = frexp(d)
  local E = e + 126
  local bits
  if E >= 1 then
    bits = (E - 1) * 8388608 + round_even(m * 16777216)
  else
    bits = round_even(ldexp(d, 149))
  end
  if bits >= 0x7F800000 then bits = 0x7F800000 end
  return sign + bits
end

local function double_words(d)
  if d ~= d then return 0xFFF80000, 0 end
  local sign = 0
  if d < 0 or 1 / d < 0 then sign = 0x80000000; d = -d end
  if d == huge then return sign + 0x7FF00000, 0 end
  if d == 0 then return sign, 0 end
  local m, e = frexp(d)
  local E = e + 1022
  local mant
  if E >= 1 then
    mant = (m * 2 - 1) * 4503599627370496
  else
    E = 0
    mant = ldexp(d, 1074)
  end
  local mh = floor(mant / TWO32)
  return sign + E * 1048576 + mh, mant - mh * TWO32
end

local function word_bytes(w, little)
  local a, b, c, d = floor(w / 16777216), floor(w / 65536) % 256, floor(w / 256) % 256, w % 256
  if little then return char(d, c, b, a) end
  return char(a, b, c, d)
end

local function pack(...)
  local fmt = ...
  local nargs = select('#', ...)
  local tf = type(fmt)
  if tf == 'number' then fmt = tostring(fmt)
  elseif tf ~= 'string' then
    return error(format("bad argument #1 to 'pack' (string expected, got %s)",
      fmt == nil and 'no value' or typenames[tf]), 1)
  end
  local nul = find(fmt, '\0', 1, true)
  if nul then fmt = sub(fmt, 1, nul - 1) end
  local little, align = true, 1
  local out, n = {}, 0
  local arg = 2
  local total = 0
  local i, flen = 1, #fmt
  while i <= flen do
    local opt = sub(fmt, i, i)
    i = i + 1
    local size
    size, i = optsize(opt, fmt, i)
    if size == E then return error(i, 1) end
    local toalign = gettoalign(total, align, opt, size)
    total = total + toalign
    if toalign > 0 then n = n + 1; out[n] = rep('\0', toalign) end
    if is_int[opt] then
      local v, err = checknumber('pack', (select(arg, ...)), arg, nargs + 1)
      if not v then return error(err, 1) end
      arg = arg + 1
      n = n + 1; out[n] = int_bytes(v, size, little)
    elseif opt == 'x' then
      n = n + 1; out[n] = '\0'
    elseif opt == 'f' then
      local v, err = checknumber('pack', (select(arg, ...)), arg, nargs + 1)
      if not v then return error(err, 1) end
      arg = arg + 1
      n = n + 1; out[n] = word_bytes(float32_bits(v), little)
    elseif opt == 'd' then
      local v, err = checknumber('pack', (select(arg, ...)), arg, nargs + 1)
      if not v then return error(err, 1) end
      arg = arg + 1
      local hi, lo = double_words(v)
      n = n + 1
      if little then out[n] = word_bytes(lo, true) .. word_bytes(hi, true)
      else out[n] = word_bytes(hi, false) .. word_bytes(lo, false) end
    elseif opt == 'c' or opt == 's' then
      local v = select(arg, ...)
      local tv = type(v)
      if tv == 'number' then v = tostring(v)
      elseif tv ~= 'string' then
        return error(format("bad argument #%d to 'pack' (string expected, got %s)", arg,
          (v == nil and arg > nargs + 1) and 'no value' or typenames[tv]), 1)
      end
      arg = arg + 1
      local l = #v
      if size == 0 then size = l end
      if l < size then
        return error(format("bad argument #%d to 'pack' (string too short)", arg), 1)
      end
      n = n + 1; out[n] = sub(v, 1, size)
      if opt == 's' then
        n = n + 1; out[n] = '\0'
        size = size + 1
      end
    else
      local a, b, c = controloptions('pack', opt, fmt, i, little, align)
      if a == E then return error(b, 1) end
      little, align, i = a, b, c
    end
    total = total + size
  end
  return concat(out, '', 1, n)
end

local function get_int(data, pos, size, little, signed)
  -- the C code keeps the last 8 bytes it shifts in (64-bit accumulator)
  local b = {byte(data, pos, pos + size - 1)}
  local seq = {}
  if little then
    for k = size, 1, -1 do seq[#seq + 1] = b[k] end
  else
    for k = 1, size do seq[#seq + 1] = b[k] end
  end
  local start = #seq > 8 and #seq - 7 or 1
  local hi, lo = 0, 0
  for k = start, #seq do
    hi = (hi % 16777216) * 256 + floor(lo / 16777216)
    lo = (lo % 16777216) * 256 + seq[k]
  end
  if signed then
    local bits = size * 8 - 1
    bits = bits % 64                                  -- x86 shift count masking
    -- mask = ~0 << bits: set if any bit >= bits is set, extend
    local neg
    if bits >= 32 then neg = hi >= 2 ^ (bits - 32)
    else neg = hi > 0 or lo >= 2 ^ bits end
    if neg then
      if bits >= 32 then
        hi = hi % 2 ^ (bits - 32) + (TWO32 - 2 ^ (bits - 32))
      else
        lo = lo % 2 ^ bits + (TWO32 - 2 ^ bits)
        hi = TWO32 - 1
      end
      return (hi - TWO32) * TWO32 + lo
    end
  end
  return hi * TWO32 + lo
end

local function float_from(bits)
  local sign = 1
  if bits >= 0x80000000 then sign = -1; bits = bits - 0x80000000 end
  local e = floor(bits / 8388608)
  local f = bits % 8388608
  if e == 255 then
    if f == 0 then return sign * huge end
    return 0 / 0
  end
  if e == 0 then return sign * ldexp(f, -149) end
  return sign * ldexp(f + 8388608, e - 150)
end

local function double_from(hi, lo)
  local sign = 1
  if hi >= 0x80000000 then sign = -1; hi = hi - 0x80000000 end
  local e = floor(hi / 1048576)
  local mant = (hi % 1048576) * TWO32 + lo
  if e == 2047 then
    if mant == 0 then return sign * huge end
    return 0 / 0
  end
  if e == 0 then return sign * ldexp(mant, -1074) end
  return sign * ldexp(mant + 4503599627370496, e - 1075)
end

local function read_word(data, pos, little)
  local a, b, c, d = byte(data, pos, pos + 3)
  if little then a, b, c, d = d, c, b, a end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function unpack_(...)
  local fmt, data, init = ...
  local tf = type(fmt)
  if tf == 'number' then fmt = tostring(fmt)
  elseif tf ~= 'string' then
    return error(format("bad argument #1 to 'unpack' (string expected, got %s)",
      fmt == nil and 'no value' or typenames[tf]), 1)
  end
  local td = type(data)
  if td == 'number' then data = tostring(data)
  elseif td ~= 'string' then
    return error(format("bad argument #2 to 'unpack' (string expected, got %s)",
      data == nil and 'no value' or typenames[td]), 1)
  end
  local pos = 0
  if init ~= nil then
    local v, err = checknumber('unpack', init, 3)
    if not v then return error(err, 1) end
    if v >= 0 then v = floor(v) else v = -floor(-v) end
    pos = v - 1
  end
  local ld = #data
  -- pos is a size_t in C: the check is pos > 0 before decrementing, so only 0 fails here;
  -- a negative pos is huge and any item then fails "data string too short".
  if pos == -1 then
    return error("bad argument #3 to 'unpack' (offset must be 1 or greater)", 1)
  end
  local nul = find(fmt, '\0', 1, true)
  if nul then fmt = sub(fmt, 1, nul - 1) end
  local little, align = true, 1
  local out, n = {}, 0
  local i, flen = 1, #fmt
  while i <= flen do
    local opt = sub(fmt, i, i)
    i = i + 1
    local size
    size, i = optsize(opt, fmt, i)
    if size == E then return error(i, 1) end
    pos = pos + gettoalign(pos, align, opt, size)
    if not (size <= ld and pos >= 0 and pos <= ld - size) then
      return error("bad argument #2 to 'unpack' (data string too short)", 1)
    end
    if is_int[opt] then
      n = n + 1
      out[n] = get_int(data, pos + 1, size, little, opt == 'b' or opt == 'h' or opt == 'l'
        or opt == 'i')
    elseif opt == 'x' then
      -- nothing
    elseif opt == 'f' then
      n = n + 1; out[n] = float_from(read_word(data, pos + 1, little))
    elseif opt == 'd' then
      local w1, w2 = read_word(data, pos + 1, little), read_word(data, pos + 5, little)
      n = n + 1
      if little then out[n] = double_from(w2, w1) else out[n] = double_from(w1, w2) end
    elseif opt == 'c' then
      if size == 0 then
        if n == 0 or type(out[n]) ~= 'number' and tonumber(out[n]) == nil then
          return error("format 'c0' needs a previous size", 1)
        end
        size = tonumber(out[n])
        if size >= 0 then size = floor(size) else size = -floor(-size) end
        n = n - 1
        if not (size >= 0 and size <= ld and pos <= ld - size) then
          return error("bad argument #2 to 'unpack' (data string too short)", 1)
        end
      end
      n = n + 1; out[n] = sub(data, pos + 1, pos + size)
    elseif opt == 's' then
      local e = find(data, '\0', pos + 1, true)
      if not e then return error('unfinished string in data', 1) end
      size = e - pos
      n = n + 1; out[n] = sub(data, pos + 1, e - 1)
    else
      local a, b, c = controloptions('unpack', opt, fmt, i, little, align)
      if a == E then return error(b, 1) end
      little, align, i = a, b, c
    end
    pos = pos + size
  end
  n = n + 1; out[n] = pos + 1
  return unpack(out, 1, n)
end

local function size(...)
  local fmt = ...
  local tf = type(fmt)
  if tf == 'number' then fmt = tostring(fmt)
  elseif tf ~= 'string' then
    return error(format("bad argument #1 to 'size' (string expected, got %s)",
      fmt == nil and 'no value' or typenames[tf]), 1)
  end
  local nul = find(fmt, '\0', 1, true)
  if nul then fmt = sub(fmt, 1, nul - 1) end
  local little, align = true, 1
  local pos = 0
  local i, flen = 1, #fmt
  while i <= flen do
    local opt = sub(fmt, i, i)
    i = i + 1
    local sz
    sz, i = optsize(opt, fmt, i)
    if sz == E then return error(i, 1) end
    pos = pos + gettoalign(pos, align, opt, sz)
    if opt == 's' then
      return error("bad argument #1 to 'size' (option 's' has no fixed size)", 1)
    elseif opt == 'c' and sz == 0 then
      return error("bad argument #1 to 'size' (option 'c0' has no fixed size)", 1)
    end
    if not find(opt, '^%w') then
      local a, b, c = controloptions('size', opt, fmt, i, little, align)
      if a == E then return error(b, 1) end
      little, align, i = a, b, c
    end
    pos = pos + sz
  end
  return pos
end

return {pack = pack, unpack = unpack_, size = size}
