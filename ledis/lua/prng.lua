-- Redis's deterministic math.random / math.randomseed (src/rand.c + script_lua.c).
--
-- rand.c is a portable drand48: x = (a*x + c) mod 2^48, a = 0x5DEECE66D, c = 0xB, state starts
-- at 0x1234ABCD330E when the process starts. redisLrand48() = x >> 17 (31 bits).
-- math.random() = (lrand48() % INT32_MAX) / INT32_MAX; random(m) = floor(r*m)+1;
-- random(m, n) = floor(r*(n-m+1))+m. Redis 7.0 does NOT reseed before each script: one state
-- runs on across EVAL calls (and Functions); math.randomseed(n) sets x = (n32 << 16) | 0x330E.
--
-- The 48-bit state is kept as two exact 24-bit halves (hi, lo) so all products fit in a double.
-- Returns {random, randomseed, getstate, setstate, reset, lrand48}: getstate/setstate let a
-- runtime that rebuilds its Lua VM (or runs Functions in another one) keep one shared state.

local floor = math.floor
local error, type, tonumber, select = error, type, tonumber, select

local TWO24 = 16777216           -- 2^24
local A_HI, A_LO = 0x5DE, 0xECE66D   -- 0x5DEECE66D = A_HI * 2^24 + A_LO
local C = 0xB
local INT32_MAX = 2147483647

local hi, lo = 0x1234AB, 0xCD330E     -- 0x1234ABCD330E

local function lrand48()
  local p = lo * A_LO + C                       -- < 2^48 + 11: exact
  local carry = floor(p / TWO24)
  local nlo = p - carry * TWO24
  local m = hi * A_LO + lo * A_HI + carry       -- < 2^49: exact
  hi = m % TWO24
  lo = nlo
  -- x >> 17 = hi * 2^7 + floor(lo / 2^17)
  return hi * 128 + floor(lo / 131072)
end

local typenames = {['nil'] = 'nil', boolean = 'boolean', table = 'table', ['function'] = 'function',
  userdata = 'userdata', thread = 'thread', string = 'string', number = 'number', cdata = 'cdata'}

-- luaL_checkint: a number or a numeric string, truncated toward zero, then cast to a C int.
local function checkint(v, narg, fname, present)
  local n = tonumber(v)
  if type(v) ~= 'number' and (type(v) ~= 'string' or n == nil) then
    local got = present and typenames[type(v)] or 'no value'
    return nil, "bad argument #" .. narg .. " to '" .. fname .. "' (number expected, got " .. got .. ")"
  end
  if n >= 0 then n = floor(n) else n = -floor(-n) end
  if n ~= n or n >= 9223372036854775808 or n < -9223372036854775808 then
    return 0   -- out-of-range cvttsd2si gives 0x8000000000000000: low 32 bits are 0
  end
  n = n % 4294967296
  if n >= 2147483648 then n = n - 4294967296 end
  return n
end

local function random(...)
  local nargs = select('#', ...)
  local r = (lrand48() % INT32_MAX) / INT32_MAX
  if nargs == 0 then
    return r
  elseif nargs == 1 then
    local u, err = checkint((...), 1, 'random', true)
    if not u then return error(err, 1) end
    if u < 1 then return error("bad argument #1 to 'random' (interval is empty)", 1) end
    return floor(r * u) + 1
  elseif nargs == 2 then
    local a, b = ...
    local l, err = checkint(a, 1, 'random', true)
    if not l then return error(err, 1) end
    local u
    u, err = checkint(b, 2, 'random', true)
    if not u then return error(err, 1) end
    if l > u then return error("bad argument #2 to 'random' (interval is empty)", 1) end
    local d = (u - l + 1 + 2147483648) % 4294967296 - 2147483648   -- C int overflow
    return floor(r * d) + l
  end
  return error('wrong number of arguments', 1)
end

local function randomseed(...)
  local s, err = checkint((...), 1, 'randomseed', select('#', ...) > 0)
  if not s then return error(err, 1) end
  s = s % 4294967296                 -- (unsigned) view: LOW/HIGH 16-bit halves
  -- x = s_hi16 << 32 | s_lo16 << 16 | 0x330E
  hi = floor(s / 256)                -- bits 24..47 of x = bits 8..31 of s
  lo = (s % 256) * 65536 + 0x330E
end

local function getstate() return hi * TWO24 + lo end
local function setstate(x)
  hi = floor(x / TWO24) % TWO24
  lo = x % TWO24
end
local function reset() hi, lo = 0x1234AB, 0xCD330E end

return {random = random, randomseed = randomseed, getstate = getstate, setstate = setstate,
  reset = reset, lrand48 = lrand48}
