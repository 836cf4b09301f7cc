-- The driver of a script of one algorithm. KEYS: one per policy; ARGV[1]: now (see
-- clock.lua); then, per policy k, its two parameters: ARGV[2k] and ARGV[2k + 1]. The
-- loader puts the algorithm's check and finish sections where `-- @check` and `-- @finish`
-- stand (in a block of their own).
--
-- Every policy is checked before any is finished: the request consumes one unit of each
-- policy or, when any of them denies, nothing at all; a policy that allowed a refused
-- request then reports what it had left before it (one more than if it had counted it).
for k = 1, #KEYS do
  local a = 2 * k
  local ok = true
  -- @check
  if not ok then
    out[1] = 0
  end
end
local allowed = out[1] == 1
for k = 1, #KEYS do
  -- @finish
  if not allowed and out[3 * k + 2] == 0 then
    out[3 * k] = out[3 * k] + 1
  end
end
return out
