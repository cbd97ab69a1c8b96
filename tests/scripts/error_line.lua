-- Raises on line 4 so the error names the line.
local x = 1
local y = 2
error('failed here')
