#!lua name=jsondoc
--[[
jsondoc: JSON documents in string keys, read and changed by path, atomically (cjson).

A path is "$" (or "") for the whole document, else dot-separated members: "user.name",
"items.0.price" (a number segment indexes an array, 0-based). Setting a path creates missing
intermediate objects. Empty objects and arrays both encode as {} (cjson cannot tell them
apart).

json_set    KEYS: doc   ARGV: path, json          -> "OK"                       O(size of doc)
json_get    KEYS: doc   ARGV: [path=$]  (read-only) -> JSON text, or nil when missing
json_del    KEYS: doc   ARGV: path               -> 1 removed, 0 missing ("$" deletes the key)
json_incr   KEYS: doc   ARGV: path, number       -> the new number (missing counts as 0)
Errors: "ERR jsondoc: invalid JSON", "ERR jsondoc: path ... is not a container".

Load: redis-cli -x FUNCTION LOAD REPLACE < stdlib/jsondoc.lua
--]]

local function fail(msg) error({err = 'ERR jsondoc: ' .. msg}) end

local function split(path)
  local parts = {}
  if path == nil or path == '' or path == '$' then return parts end
  if string.sub(path, 1, 2) == '$.' then path = string.sub(path, 3) end
  for seg in string.gmatch(path, '[^%.]+') do
    local n = tonumber(seg)
    if n and n >= 0 and n % 1 == 0 then parts[#parts + 1] = n + 1 else parts[#parts + 1] = seg end
  end
  return parts
end

local function decode(text)
  local ok, v = pcall(cjson.decode, text)
  if not ok then fail('invalid JSON') end
  return v
end

local function load_doc(key)
  local text = redis.call('GET', key)
  if not text then return nil end
  return decode(text)
end

local function walk(doc, parts, upto)
  local node = doc
  for i = 1, upto do
    if type(node) ~= 'table' then return nil end
    node = node[parts[i]]
    if node == nil then return nil end
  end
  return node
end

local function json_get(keys, args)
  local doc = load_doc(keys[1])
  if doc == nil then return nil end
  local parts = split(args[1])
  local node = walk(doc, parts, #parts)
  if node == nil then return nil end
  return cjson.encode(node)
end

local function json_set(keys, args)
  if args[2] == nil then fail('value is missing') end
  local value = decode(args[2])
  local parts = split(args[1])
  if #parts == 0 then
    redis.call('SET', keys[1], cjson.encode(value))
    return redis.status_reply('OK')
  end
  local doc = load_doc(keys[1]) or {}
  if type(doc) ~= 'table' then fail('path ' .. args[1] .. ' is not a container') end
  local node = doc
  for i = 1, #parts - 1 do
    local nxt = node[parts[i]]
    if nxt == nil then
      nxt = {}
      node[parts[i]] = nxt
    elseif type(nxt) ~= 'table' then
      fail('path ' .. args[1] .. ' is not a container')
    end
    node = nxt
  end
  node[parts[#parts]] = value
  redis.call('SET', keys[1], cjson.encode(doc))
  return redis.status_reply('OK')
end

local function json_del(keys, args)
  local parts = split(args[1])
  if #parts == 0 then return redis.call('DEL', keys[1]) end
  local doc = load_doc(keys[1])
  if doc == nil then return 0 end
  local parent = walk(doc, parts, #parts - 1)
  local last = parts[#parts]
  if type(parent) ~= 'table' or parent[last] == nil then return 0 end
  if type(last) == 'number' and last <= #parent then table.remove(parent, last)
  else parent[last] = nil end
  redis.call('SET', keys[1], cjson.encode(doc))
  return 1
end

local function json_incr(keys, args)
  local by = tonumber(args[2])
  if not by then fail('increment must be a number') end
  local parts = split(args[1])
  if #parts == 0 then fail('cannot increment the whole document') end
  local doc = load_doc(keys[1]) or {}
  local parent = doc
  for i = 1, #parts - 1 do
    local nxt = parent[parts[i]]
    if nxt == nil then nxt = {} parent[parts[i]] = nxt end
    if type(nxt) ~= 'table' then fail('path ' .. args[1] .. ' is not a container') end
    parent = nxt
  end
  local current = parent[parts[#parts]] or 0
  if type(current) ~= 'number' then fail('value at ' .. args[1] .. ' is not a number') end
  parent[parts[#parts]] = current + by
  redis.call('SET', keys[1], cjson.encode(doc))
  return cjson.encode(current + by)
end

redis.register_function{function_name = 'json_get', callback = json_get, flags = {'no-writes'},
  description = 'JSON text at a path'}
redis.register_function{function_name = 'json_set', callback = json_set,
  description = 'set the JSON value at a path'}
redis.register_function{function_name = 'json_del', callback = json_del,
  description = 'delete the value at a path'}
redis.register_function{function_name = 'json_incr', callback = json_incr,
  description = 'add to the number at a path'}
