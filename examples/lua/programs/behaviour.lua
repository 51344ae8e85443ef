-- behaviour.lua: a little of everything the hooks are near (calls and
-- returns, metamethods, varargs, closures, errors, coroutines, collection,
-- finalizers, weak tables, to-be-closed variables), for the test that the
-- hooked lua prints what the unpatched one does, memory figures included
-- (the hooks allocate nothing of Lua's). No addresses.
local function show(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  print(table.concat(parts, " "))
end

local Vector = {__name = "Vector"}
Vector.__index = Vector
Vector.__add = function(a, b) return Vector.new(a.x + b.x, a.y + b.y) end
Vector.__eq = function(a, b) return a.x == b.x and a.y == b.y end
Vector.__lt = function(a, b) return a:len() < b:len() end
Vector.__le = function(a, b) return a:len() <= b:len() end
Vector.__len = function(a) return 2 end
Vector.__concat = function(a, b) return tostring(a) .. tostring(b) end
Vector.__tostring = function(a) return "(" .. a.x .. "," .. a.y .. ")" end
Vector.__call = function(a, k) return a.x * k end
function Vector.new(x, y) return setmetatable({x = x, y = y}, Vector) end
function Vector:len() return math.sqrt(self.x ^ 2 + self.y ^ 2) end

local function counter()
  local n = 0
  return function(step) n = n + (step or 1) return n end
end

local function varargs(...)
  return select("#", ...), select(2, ...), ...
end

local function main()
  local a, b = Vector.new(1, 2), Vector.new(3, 4)
  show(a + b, a == Vector.new(1, 2), a < b, a <= b, #a, a .. b, a(10), b:len())
  show(getmetatable(a).__name, string.format("%q %5.2f %x", "q\n", math.pi, 255))
  local c = counter()
  c() c(5)
  show(c(), varargs(1, nil, 3))
  show(7 // 2, 7.0 // 2, 7 % -3, 2 ^ 10, math.maxinteger + 1 == math.mininteger, 1 / 0, -(0 / 0) ~= -(0 / 0))
  show(utf8.char(72, 228, 8364), utf8.len("h\u{e4}\u{20ac}"), ("lua"):rep(3, "-"), ("a,b,,c"):gsub(",", ";"))
  local t = {5, 3, 8, 1, 9, 2}
  table.sort(t, function(x, y) return x > y end)
  show(table.concat(t, ","), table.unpack({1, 2, 3}, 2))
  show(pcall(error, {code = 1}), select(2, pcall(error, "msg", 0)), select(2, pcall(error)))
  show(select(2, pcall(function() local x = nil; return x.field end)))
  show(select(2, pcall(function() return #nil end)))
  show(select(2, pcall(string.rep, "x", -1, 5)))
  local gen = coroutine.wrap(function(x) while true do x = coroutine.yield(x * 2) end end)
  show(gen(1), gen(2), gen(3), coroutine.isyieldable(), coroutine.running() ~= nil)
  local log = {}
  do
    local r <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = "closed " .. tostring(e) end})
    log[#log + 1] = "body"
  end
  show(table.concat(log, ", "))
  local weak = setmetatable({}, {__mode = "k"})
  weak[{}] = true
  local finalized = 0
  for _ = 1, 10 do setmetatable({}, {__gc = function() finalized = finalized + 1 end}) end
  collectgarbage()
  collectgarbage()
  show(next(weak) == nil, finalized, collectgarbage("count") * 1024)
  expect("calls", "behaviour.lua", "__gc", finalized)  -- Lua's hooks do not run in finalizers
  expect("instances", "Vector", "behaviour.lua", 4, 4)  -- a, b, a + b, the one a is compared with
  expect("audit", "load", 1)
  for i = 3, 1, -1 do
    if i == 2 then goto continue end
    show("loop", i)
    ::continue::
  end
  local env = {print = show, x = 42}
  load("print('in env', x)", "chunk", "t", env)()
  show(debug.traceback("where", 1):gsub("\n.*", ""))
  show(os.time({year = 2020, month = 1, day = 1, hour = 12}) - os.time({year = 2020, month = 1, day = 1, hour = 0}))
end

run(main)
