-- Loop-heavy: a tight loop of simple statements, no calls (each line is
-- where the line probe would fire).
local function run(count)
  local a, b = 0, 1
  for i = 0, count - 1 do
    a = a + i
    b = b * 3 % 1000
    a = a - b
  end
  return a, b
end

print(run(tonumber(arg[1]) or 1000000))
