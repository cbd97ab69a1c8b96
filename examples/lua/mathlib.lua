#!lua name=mathlib
-- Shared code: a library that only exports a module table (ledis.export), for other
-- libraries to ledis.require. No KEYS/ARGV: it registers no function.
--   redis-cli -x FUNCTION LOAD REPLACE < examples/lua/mathlib.lua
local M = {}

-- Integer percentage, rounded half up: M.percent(1, 3) == 33.
function M.percent(part, whole)
  if whole == 0 then return 0 end
  return math.floor(part * 100 / whole + 0.5)
end

-- Clamp x into [lo, hi].
function M.clamp(x, lo, hi)
  if x < lo then return lo end
  if x > hi then return hi end
  return x
end

ledis.export(M)
