-- garbage.lua: collections of each kind, with instances of a class.
-- (lua.c runs its scripts in generational mode.)
--   1. incremental mode, stopped: three full collections
--      (collectgarbage()), each of 1000 dropped Node instances: each frees
--      what collectgarbage("count") says it does;
--   2. generational mode: entering it is a full collection, then three
--      young ones (collectgarbage("step"));
--   3. incremental mode again, running: automatic cycles, counted by a
--      finalizer that runs once per cycle and makes the next one;
--   4. a last full collection, then the collector stays stopped.
local Node = {__name = "Node"}
Node.__index = Node

local function node(value, next)
  return setmetatable({value = value, next = next}, Node)
end

local function chain(n)
  local head
  for i = 1, n do head = node(i, head) end
  return head
end

local cycles = 0
local sentinel = {}
sentinel.__gc = function()
  cycles = cycles + 1
  setmetatable({}, sentinel)
end

local function kilobytes()
  return collectgarbage("count")
end

local function full()
  local before = kilobytes()
  collectgarbage()
  return math.floor((before - kilobytes()) * 1024 + 0.5)
end

-- Makes garbage until 'n' cycles have ended; returns how many nodes it
-- made. (How many depends on memory: Lua's hooks make garbage too.)
local function churn(n)
  local made = 0
  while cycles < n do
    node(0)
    made = made + 1
  end
  return made
end

local function main()
  local kept = chain(10)  -- alive to the end: freed by lua_close
  local made = 10
  collectgarbage("incremental")
  full()
  expect("gc", 2, -1)
  for _ = 1, 3 do
    chain(1000)
    made = made + 1000
    expect("gc", 2, full())
  end
  collectgarbage("generational")
  expect("gc", 2, -1)
  for _ = 1, 3 do
    chain(100)
    made = made + 100
    collectgarbage("step")
    expect("gc", 0, -1)
  end
  collectgarbage("incremental")
  setmetatable({}, sentinel)
  collectgarbage("restart")
  local churned = churn(5)
  made = made + churned
  collectgarbage("stop")
  for _ = 1, cycles do expect("gc", 1, -1) end
  full()
  expect("gc", 2, -1)
  -- Lua's hooks see neither finalizers (lua_close runs the last one) nor
  -- the same number of nodes made while churning
  expect("calls", "garbage.lua", "__gc", cycles + 1)
  expect("calls", "garbage.lua", "churn", 1)
  expect("calls", "garbage.lua", "node", made)
  expect("calls", "[C]", "setmetatable", made + 1 + cycles + 1)  -- nodes, sentinels
  expect("instances", "Node", "garbage.lua", made, made)
  print("kept", kept.value, "made", made)
end

collectgarbage("stop")  -- no collection but those main() asks for, until it restarts it
run(main)
