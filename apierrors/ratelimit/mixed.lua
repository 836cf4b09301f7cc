-- The driver of a script of several algorithms (several throttles of one view, checked
-- together). KEYS: one per policy; ARGV[1]: now (see clock.lua); ARGV[2]: one letter per
-- policy naming its algorithm (its key tag: "f" for the fixed window, "g" for GCRA); then,
-- per policy k, its two parameters: ARGV[2k + 1] and ARGV[2k + 2]. The loader puts every
-- algorithm's prelude before it, and at `-- @check` and `-- @finish` each algorithm's
-- section under a test of the policy's letter.
--
-- As in driver.lua, every policy is checked before any is finished: all or nothing.
local kinds = ARGV[2]
for k = 1, #KEYS do
  local a = 2 * k + 1
  local ok = true
  local kind = string.sub(kinds, k, k)
  -- @check
  if not ok then
    out[1] = 0
  end
end
local allowed = out[1] == 1
for k = 1, #KEYS do
  local kind = string.sub(kinds, k, k)
  -- @finish
  if not allowed and out[3 * k + 2] == 0 then
    out[3 * k] = out[3 * k] + 1
  end
end
return out
