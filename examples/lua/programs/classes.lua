-- classes.lua: classes with __name (instances) and methods; one class
-- inherits from another; a table with a metatable but no __name is no
-- instance; setmetatable on an instance again keeps its first class.
local Point = {__name = "Point"}
Point.__index = Point

function Point.new(x, y)
  return setmetatable({x = x, y = y}, Point)
end

function Point:move(dx, dy)
  self.x, self.y = self.x + dx, self.y + dy
  return self
end

function Point:show()
  return string.format("(%d, %d)", self.x, self.y)
end

local Path = setmetatable({__name = "Path"}, {__index = Point})
Path.__index = Path

function Path.new()
  return setmetatable({points = {}}, Path)
end

function Path:add(point)
  self.points[#self.points + 1] = point
  return self
end

function Path:length()
  return #self.points
end

local function main()
  local p = Point.new(1, 2)
  p:move(3, 0):move(1, 1)
  local step = p.move
  step(p, -1, -1)
  print(p:show())
  local path = Path.new()
  for i = 1, 3 do path:add(Point.new(i, i)) end
  print(path:length(), path.points[2]:show())
  setmetatable(p, Path)  -- announced as a Point already
  local plain = setmetatable({}, {__index = Point})
  print(plain.show == Point.show)
  expect("instances", "Point", "classes.lua", 4, 4)  -- freed by lua_close
  expect("instances", "Path", "classes.lua", 1, 1)
end

run(main)
