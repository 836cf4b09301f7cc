-- The driver of a script of several algorithms (several throttles of one view, checked
-- together): the loader puts each algorithm's functions before it. KEYS: one per policy;
-- ARGV[1]: now (see clock.lua); ARGV[2]: one letter per policy naming its algorithm (its
-- key tag: "f" for the fixed window, "g" for GCRA); then, per policy i, its two
-- parameters: ARGV[2i + 1] and ARGV[2i + 2].
--
-- As in driver.lua, every policy is checked before any is finished: all or nothing.
local kinds = ARGV[2]
local checks = {}
local finishes = {}
for i = 1, #KEYS do
  local kind = string.sub(kinds, i, i)
  checks[i] = ALGORITHMS[kind][1]
  finishes[i] = ALGORITHMS[kind][2]
  if not checks[i](i, 2 * i + 1) then
    out[1] = 0
  end
end
local allowed = out[1] == 1
for i = 1, #KEYS do
  finishes[i](i, allowed)
  if not allowed and out[3 * i + 2] == 0 then
    out[3 * i] = out[3 * i] + 1
  end
end
return out
