-- One probe hit per iteration on Lua: a call of an empty Lua function
-- fires function__entry once (its return fires only while
-- function__return is traced too).
--
--   lua lua_hits.lua ITERATIONS ROUNDS
--
-- As bench/fire_loop.c: with PYPROBE_READY_FILE set, waits (at most 30 s)
-- until that file exists (the tracer's BEGIN creates it), in one call
-- begun before the tracer came (os.execute of a shell loop), so that no
-- wait is counted; calls the function 100 times untimed, then times ROUNDS
-- rounds (os.clock: the process's CPU time, which is where a uprobe's
-- cost lands) and prints one JSON line. "fires" counts every call after
-- the wait: the function's, os.clock's, and the few at the end.
local iterations, rounds = tonumber(arg[1]), tonumber(arg[2])
local ready = os.getenv("PYPROBE_READY_FILE")
if ready then
  os.execute("i=0; while [ ! -e '" .. ready .. "' ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done")
end
local function f() end
local clock = os.clock
for _ = 1, 100 do f() end
local times = ""
for r = 1, rounds do
  local start = clock()
  for _ = 1, iterations do f() end
  local ns = (clock() - start) * 1e9 / iterations
  times = times .. (r > 1 and ", " or "") .. ns
end
local maps = io.open("/proc/self/maps")
local trampoline = maps:read("a"):find("[uprobes-trampoline]", 1, true) ~= nil
maps:close()
-- calls after the wait: f, clock (2 a round), io.open, read (and the
-- __close of the buffer it reads the file into: C calls C), find, close,
-- print and os.exit
local fires = 100 + rounds * (iterations + 2) + 7
print('{"mode": "lua call", "fires": ' .. fires .. ', "ns_per_iteration": [' .. times
      .. '], "trampoline": ' .. (trampoline and "true" or "false") .. '}')
os.exit(0, false)  -- no lua_close: its finalizers would call more
