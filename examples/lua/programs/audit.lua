-- audit.lua: the library functions that audit: files, commands, chunks.
-- It writes a file in $PYPROBE_LUA_SCRATCH (the test's directory).
local function main()
  local path = assert(os.getenv("PYPROBE_LUA_SCRATCH"), "PYPROBE_LUA_SCRATCH is not set") .. "/chunk.lua"
  local f = assert(io.open(path, "w"))
  f:write("return 6 * 7\n")
  f:close()
  for line in io.lines(path) do print(line) end
  print(loadfile(path)(), dofile(path), load("return 1 + 1")())
  print(load(function() return nil end, "=reader") ~= nil)
  print(os.execute("true"))
  local p = assert(io.popen("echo popen"))
  print(p:read("l"))
  p:close()
  assert(os.rename(path, path .. ".moved"))
  assert(os.remove(path .. ".moved"))
  print(io.open(path) == nil)
  expect("audit", "io.open", 3)  -- io.open twice, io.lines
  expect("audit", "loadfile", 2)  -- loadfile, dofile
  expect("audit", "load", 2)
  expect("audit", "os.execute", 1)
  expect("audit", "io.popen", 1)
  expect("audit", "os.rename", 1)
  expect("audit", "os.remove", 1)
  -- io.open's and io.lines' files, io.popen's, and the one io.open failed
  -- to open: it makes the file object first
  expect("instances", "FILE*", "audit.lua", 4, 4)
end

run(main)
