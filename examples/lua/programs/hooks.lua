-- hooks.lua: Lua's own debug hooks see what they always saw, whatever the
-- probes do with the same machinery: every call, return, tail call, line
-- and count event of a few functions, and what debug.gethook says.
local events = {}

local function record(event, line)
  local info = debug.getinfo(2, "nS")
  events[#events + 1] = string.format("%s %s %s", event, info.name or "?", line or info.linedefined)
end

local function leaf(n)
  return n + 1
end

local function tail(n)
  if n == 0 then return leaf(n) end
  return tail(n - 1)
end

local function main()
  expect("no control", "it sets Lua's hooks itself")
  debug.sethook(record, "crl")
  local x = tail(3)
  for i = 1, 2 do x = x + leaf(i) end
  debug.sethook()
  print(table.concat(events, "\n"))
  print(x, debug.gethook())
  debug.sethook(record, "l", 5)
  print(select(2, debug.gethook()), select(3, debug.gethook()))
  debug.sethook()
  local counted = 0
  debug.sethook(function() counted = counted + 1 end, "", 100)
  for _ = 1, 1000 do x = x + 1 end
  debug.sethook()
  print("count events", counted > 0, debug.gethook())
  local co = coroutine.create(function() coroutine.yield(debug.gethook()) end)
  debug.sethook(co, record, "r")
  print(select(2, coroutine.resume(co)) == record, select(3, debug.gethook(co)))
end

run(main)
