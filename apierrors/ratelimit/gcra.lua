-- GCRA (generic cell rate algorithm): a smooth rate with a burst allowance.
--
-- KEYS: one per policy, all sharing one hash tag. ARGV[1]: now in microseconds, or an
-- empty string for the server's own TIME. Then, per policy i: ARGV[2i] = interval (the
-- period divided by the limit, microseconds), ARGV[2i+1] = tolerance (interval * burst).
-- A key holds the theoretical arrival time (TAT), in one of two forms:
--
-- - on the server's clock (production, Redis 7+): the key expires at the TAT rounded up to
--   the millisecond (PEXPIREAT), and holds what the rounding added, 0 to 999 microseconds:
--   a small integer Redis keeps without an object (a shared integer). The TAT is then the
--   key's PEXPIRETIME less that value;
-- - otherwise (a caller's clock, whose keys live a minute longer; Redis before 7): the TAT
--   itself in microseconds, never below 1000.
--
-- All policies are checked before any is written: the request consumes one unit of each
-- policy, or, when any policy denies, nothing at all.
--
-- Returns {allowed, now, remaining_1, reset_1, wait_1, remaining_2, ...}: requests still
-- admissible now, when the burst is whole again (the TAT, microseconds) and how long a
-- denying policy wants the client to wait (0 for a policy that allows).
-- `now` and `slack` come from clock.lua, which the loader puts before this script.
local out = {1, now}
local tats = {}
-- Whether the keys can hold the TAT relative to their expiry (PEXPIRETIME is Redis 7's).
local relative = slack == 0 and type(redis.pcall("PEXPIRETIME", KEYS[1])) == "number"
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call("GET", KEYS[i]))
  if tat and tat < 1000 then
    local at = redis.call("PEXPIRETIME", KEYS[i])
    if at > 0 then
      tat = at * 1000 - tat
    else
      tat = nil
    end
  end
  tat = tat or now
  if tat < now then
    tat = now
  end
  local new_tat = tat + interval
  local allow_at = new_tat - tolerance
  tats[i] = new_tat
  if allow_at > now then
    out[1] = 0
    out[3 * i] = 0
    out[3 * i + 1] = tat
    out[3 * i + 2] = allow_at - now
  else
    -- What is left once this request is counted; one more if it ends up not counted.
    out[3 * i] = math.floor((tolerance - (new_tat - now)) / interval)
    out[3 * i + 1] = tat
    out[3 * i + 2] = 0
  end
end
for i = 1, #KEYS do
  if out[1] == 1 then
    -- Arguments as strings: Redis converts a Lua number more slowly than Lua formats it.
    if relative then
      local at = math.ceil(tats[i] / 1000)
      redis.call("SET", KEYS[i], string.format("%d", at * 1000 - tats[i]),
        "PXAT", string.format("%d", at))
    else
      local ttl = math.ceil((tats[i] - now) / 1000) + slack
      redis.call("SET", KEYS[i], string.format("%d", tats[i]), "PX", string.format("%d", ttl))
    end
    out[3 * i + 1] = tats[i]
  elseif out[3 * i + 2] == 0 then
    out[3 * i] = out[3 * i] + 1
  end
end
return out
