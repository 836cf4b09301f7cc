-- GCRA (generic cell rate algorithm): a smooth rate with a burst allowance.
--
-- Three sections, which the loader (algorithms.py) places in a script: the prelude once,
-- then the check for each key of the algorithm (inside the driver's loop: KEYS[k] is the
-- policy's key, ARGV[a] its interval, the period divided by the limit in microseconds, and
-- ARGV[a + 1] its tolerance, interval * burst; it sets `ok` to false when the policy
-- denies), then, once every policy of the request has been checked, the finish for each
-- key (`allowed`: whether every policy allowed). A key holds the theoretical arrival time
-- (TAT), in one of two forms:
--
-- - on the server's clock (production, Redis 7+): the key expires at the TAT rounded up to
--   the millisecond (PEXPIREAT), and holds what the rounding added, 0 to 999 microseconds:
--   a small integer Redis keeps without an object (a shared integer). The TAT is then the
--   key's PEXPIRETIME less that value;
-- - otherwise (a caller's clock, whose keys live a minute longer; Redis before 7): the TAT
--   itself in microseconds, never below 1000.
--
-- The check only reads; the finish writes the new TAT when every policy of the request
-- allows, so the request consumes one unit of each policy or nothing at all.
--
-- Fills out[3k .. 3k + 2]: requests still admissible now, when the burst is whole again
-- (the TAT, microseconds) and how long a denying policy wants the client to wait (0 for a
-- policy that allows). `now`, `slack` and `out` come from clock.lua.
-- @prelude
local gcra_tats = {}
-- Whether the keys can hold the TAT relative to their expiry: on the server's clock, on
-- Redis 7+ (PEXPIRETIME; REDIS_VERSION_NUM is nil before 7, 0x070000 is 458752).
local gcra_relative = slack == 0 and (redis.REDIS_VERSION_NUM or 0) >= 458752
-- @check
local key = KEYS[k]
local interval = tonumber(ARGV[a])
local tolerance = tonumber(ARGV[a + 1])
local tat = tonumber(redis.call("GET", key))
if tat and tat < 1000 then
  local at = redis.call("PEXPIRETIME", key)
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
gcra_tats[k] = new_tat
out[3 * k + 1] = tat
if allow_at > now then
  out[3 * k] = 0
  out[3 * k + 2] = allow_at - now
  ok = false
else
  -- What is left once this request is counted (the driver adds one if it is not).
  out[3 * k] = math.floor((tolerance - (new_tat - now)) / interval)
  out[3 * k + 2] = 0
end
-- @finish
if allowed then
  local key = KEYS[k]
  local tat = gcra_tats[k]
  -- Arguments as strings: Redis converts a Lua number more slowly than Lua formats it.
  if gcra_relative then
    local at = math.ceil(tat / 1000)
    redis.call("SET", key, string.format("%d", at * 1000 - tat), "PXAT", string.format("%d", at))
  else
    local ttl = math.ceil((tat - now) / 1000) + slack
    redis.call("SET", key, string.format("%d", tat), "PX", string.format("%d", ttl))
  end
  out[3 * k + 1] = tat
end
