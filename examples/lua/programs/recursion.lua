-- recursion.lua: plain, mutual and tail recursion; Lua and C functions.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local is_odd
local function is_even(n)
  if n == 0 then return true end
  return is_odd(n - 1)      -- a tail call: the callee's name is "?"
end
function is_odd(n)
  if n == 0 then return false end
  return is_even(n - 1)
end

local function sum(t, i, acc)
  if i > #t then return acc end
  return sum(t, i + 1, acc + math.floor(t[i] / 2))
end

local function main()
  local t = {}
  for i = 1, 50 do t[i] = i * 3 end
  print("fib(15)", fib(15))
  print("is_even(25)", is_even(25))
  print("sum", sum(t, 1, 0))
  print(string.format("%d %s", #t, tostring(select("#", 1, 2, 3))))
end

run(main)
