-- Allocation-heavy: instances of a class with __name (setmetatable) and
-- plain tables, all garbage soon; the collector runs all along.
local Point = {__name = "Point"}
Point.__index = Point

function Point.new(x, y)
  return setmetatable({x = x, y = y}, Point)
end

function Point:norm1()
  return math.abs(self.x) + math.abs(self.y)
end

local function run(count)
  local total = 0
  for i = 1, count do
    local p = Point.new(i, -i)
    local pair = {i, i + 1}
    total = total + p:norm1() % 7 + #pair
  end
  return total
end

print(run(tonumber(arg[1]) or 100000))
