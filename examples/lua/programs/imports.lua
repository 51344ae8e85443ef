-- imports.lua: require of a module (found, then cached), of a missing one,
-- and of one whose loading fails.
local function main()
  local geometry = require("geometry")
  print(geometry.square(4), geometry.area(2, 3))
  print(require("geometry") == geometry)  -- loaded already: no import
  local ok, message = pcall(require, "nosuch")
  print(ok, message:match("module 'nosuch' not found") ~= nil)
  package.preload.broken = function() error("cannot load") end
  print(pcall(require, "broken"))
  expect("imports", "geometry", 1, 1)
  expect("imports", "nosuch", 0, 1)
  expect("imports", "broken", 0, 1)
end

run(main)
