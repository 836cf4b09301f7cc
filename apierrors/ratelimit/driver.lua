-- The driver of a script of one algorithm: `check` and `finish` are its functions (the
-- loader names them in the line before this one). KEYS: one per policy; ARGV[1]: now (see
-- clock.lua); then, per policy i, its two parameters: ARGV[2i] and ARGV[2i + 1].
--
-- Every policy is checked before any is finished: the request consumes one unit of each
-- policy or, when any of them denies, nothing at all; a policy that allowed a refused
-- request then reports what it had left before it (one more than if it had counted it).
for i = 1, #KEYS do
  if not check(i, 2 * i) then
    out[1] = 0
  end
end
local allowed = out[1] == 1
for i = 1, #KEYS do
  finish(i, allowed)
  if not allowed and out[3 * i + 2] == 0 then
    out[3 * i] = out[3 * i] + 1
  end
end
return out
