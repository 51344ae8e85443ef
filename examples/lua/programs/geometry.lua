-- geometry.lua: a module that imports.lua requires.
local geometry = {}

function geometry.square(n)
  return n * n
end

function geometry.area(width, height)
  return width * height
end

return geometry
