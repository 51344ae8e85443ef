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
  -- a big frame: Lua's stack (a million slots) holds fewer of them
  local a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
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
  local ok, message = pcall(function() overflow() end)
  print(ok, message:match("stack overflow") ~= nil)
  -- Lua's hooks use stack too: the overflow comes sooner under them
  expect("calls", "errors.lua", "overflow", depth)
  print(pcall(string.rep))
end

run(main)
