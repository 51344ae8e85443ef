-- tour.lua: functions and lines, each run a different number of times:
-- the scripts' workload (examples/tests/test_scripts_lua.py).
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function divides(d, n)
  return n % d == 0
end

local function is_prime(n)
  if n < 2 then return false end
  local d = 2
  while d * d <= n do
    if divides(d, n) then return false end
    d = d + 1
  end
  return true
end

local function count_primes(limit)
  local found = 0
  for n = 0, limit - 1 do
    if is_prime(n) then found = found + 1 end
  end
  return found
end

local Particle = {__name = "Particle"}
Particle.__index = Particle

function Particle.new(x, speed)
  local p = setmetatable({}, Particle)
  p.x = x
  p.speed = speed
  return p
end

function Particle:step()
  self.x = self.x + self.speed
  return self
end

function Particle:energy()
  return self.speed * self.speed
end

local function simulate(count)
  local kept, energy, span = {}, 0, 0
  for i = 1, count do
    local p = Particle.new(i, i % 7)
    p:step():step()
    if i % 10 == 0 then
      kept[#kept + 1] = p
      energy = energy + p:energy()
    end
    if i % 20 == 0 then span = span + math.floor(p.x / 3) end
  end
  return #kept, energy, span
end

local function report(i, total)
  if i % 2 == 0 then total = total .. tostring(i) end
  return total
end

local function main()
  print("fib(12)", fib(12))
  print("primes below 300", count_primes(300))
  print("particles kept, energy", simulate(1500))
  local total = ""
  for i = 1, 12 do total = report(i, total) end
  print(string.format("%s %s %d", total, "done", select("#", 1, 2)))
  expect("instances", "Particle", "tour.lua", 1500, 1500)  -- the last freed by lua_close
end

run(main)
