-- harness.lua: how examples/tests/test_lua_bpftrace.py runs a program.
--
--     lua -l harness PROGRAM.lua
--
-- PROGRAM.lua ends with run(main). run waits for a line on stdin (the test
-- sends it once bpftrace is attached), then calls main(). With
-- PYPROBE_LUA_CONTROL set, it counts what main() does with Lua's own hooks
-- (debug.sethook) instead, and prints, for the test to set beside what
-- bpftrace counted in a traced run:
--     call <TAB> file <TAB> function <TAB> line defined <TAB> count
--     line <TAB> file <TAB> function <TAB> line <TAB> count
-- with file and function as the probes name them. Lua's hooks see neither
-- a resumed coroutine's frames start again (the probes' function__entry
-- does) nor calls that other coroutines make (debug.sethook is per thread):
-- the hook counts the first where coroutine.resume or a wrapped coroutine
-- is called, and hooks each coroutine that coroutine.create or
-- coroutine.wrap returns.
local control = os.getenv("PYPROBE_LUA_CONTROL")
local getinfo, getlocal, getupvalue, sethook = debug.getinfo, debug.getlocal, debug.getupvalue, debug.sethook
local create, wrap, resume, status = coroutine.create, coroutine.wrap, coroutine.resume, coroutine.status
local counts = {}

local function count(kind, info, at)
  local file = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
  local key = table.concat({kind, file, info.name or "?", at}, "\t")
  counts[key] = (counts[key] or 0) + 1
end

-- The coroutine a call resumes: coroutine.resume's first argument, or the
-- thread in a coroutine.wrap function's upvalue.
local function resumed(func)
  local co
  if func == resume then
    co = select(2, getlocal(3, 1))
  else
    co = select(2, getupvalue(func, 1))
  end
  return type(co) == "thread" and status(co) == "suspended" and co or nil
end

local hook
hook = function(event, line)
  local info = getinfo(2, "Snfr")
  if event == "line" then
    count("line", info, line)
  elseif event == "call" or event == "tail call" then
    count("call", info, info.linedefined)
    local co = info.what == "C" and resumed(info.func)
    -- its frames start again, all but coroutine.yield's (it returns)
    for level = 0, math.huge do
      local frame = co and getinfo(co, level, "Sn")
      if not frame then break end
      if level > 0 or frame.what ~= "C" then count("call", frame, frame.linedefined) end
    end
  elseif event == "return" and (info.func == create or info.func == wrap) then
    local made = select(2, getlocal(2, info.ftransfer))
    sethook(type(made) == "thread" and made or select(2, getupvalue(made, 1)), hook, "crl")
  end
end

-- What the probes must show that Lua's hooks cannot count: printed as
--     expect <TAB> what <TAB> ... (examples/tests/test_lua_bpftrace.py)
function expect(...)
  print(table.concat({"expect", ...}, "\t"))
end

function run(main)
  -- the counts, also when main() ends with an error no one catches
  local report <close> = setmetatable({}, {__close = function()
    if control then
      sethook()
      for key, n in pairs(counts) do print(key .. "\t" .. n) end
    end
  end})
  io.read("l")
  if control then sethook(hook, "crl") end
  main()
end
