-- coroutines.lua: generators, a producer and a consumer, a coroutine that
-- resumes another, yields across pcall, coroutine.close.
local function range(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i) end
  end)
end

local function producer(items)
  return coroutine.create(function()
    for _, item in ipairs(items) do
      coroutine.yield(item * 2)
    end
    return "done"
  end)
end

local function relay(co)
  return coroutine.wrap(function()
    while true do
      local ok, value = coroutine.resume(co)
      if coroutine.status(co) == "dead" then return value end
      coroutine.yield(value + 1)
    end
  end)
end

local function guarded()
  local co = coroutine.create(function()
    local ok, v = pcall(function() return coroutine.yield("in pcall") + 1 end)
    coroutine.yield(v)
  end)
  print(coroutine.resume(co))
  print(coroutine.resume(co, 41))
  print(coroutine.close(co))
end

local function main()
  local total = 0
  for i in range(10) do total = total + i end
  print("range", total)
  local co = producer({1, 2, 3})
  while true do
    local ok, v = coroutine.resume(co)
    if v == "done" then break end
    print("produced", v)
  end
  local r = relay(producer({5, 6}))
  print(r(), r(), r())
  guarded()
end

run(main)
