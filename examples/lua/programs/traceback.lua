-- traceback.lua: an error no one catches: lua's message and stack
-- traceback on stderr, exit status 1.
local Account = {__name = "Account"}
Account.__index = Account

function Account:withdraw(amount)
  if amount > self.balance then
    error(string.format("insufficient funds: %d > %d", amount, self.balance))
  end
  self.balance = self.balance - amount
end

local function main()
  expect("instances", "Account", "traceback.lua", 1, 1)  -- freed by lua_close
  local account = setmetatable({balance = 10}, Account)
  account:withdraw(3)
  print("balance", account.balance)
  local ok, message = pcall(account.withdraw, account, 100)
  print(ok, message)
  account:withdraw(100)
end

run(main)
