-- errors.lua: errors unwinding frames through pcall, xpcall, error
-- objects, a failing __close, a dying coroutine, and a stack overflow.
local function fail(depth, value)
  if depth == 0 then error(value) end
  local r = fail(depth - 1, value)
  return r
end

local function handler(message)
  return "handled: " .. tostring(message)
end

local function closing()
  local t <close> = setmetatable({}, {__close = function() error("in __close") end})
  return 1
end

local depth = 0
local function overflow()
  depth = depth + 1
  return 1 + overflow()
end

local function main()
  for depth = 0, 4 do
    print(pcall(fail, depth, "boom"))
  end
  print(select(2, pcall(fail, 3, {code = 7})).code)
  print(xpcall(fail, handler, 2, "through xpcall"))
  print(pcall(closing))
  local co = coroutine.create(function(n) coroutine.yield(n) fail(2, "in a coroutine") end)
  print(coroutine.resume(co, 5))
  print(coroutine.resume(co))
  print(coroutine.status(co))
  local ok, message = pcall(overflow)
  print(ok, message:match("stack overflow") ~= nil)
  -- Lua's hooks use stack too: the overflow comes sooner under them
  expect("calls", "overflow", depth)
  print(pcall(string.rep))
end

run(main)
