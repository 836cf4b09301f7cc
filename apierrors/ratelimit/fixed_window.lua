-- Fixed window, epoch-aligned: at most `limit` requests in each window of `period`.
--
-- Three sections, which the loader (algorithms.py) places in a script: the prelude once,
-- then the check for each key of the algorithm (inside the driver's loop: KEYS[k] is the
-- policy's key, ARGV[a] its limit and ARGV[a + 1] its period in microseconds; it sets
-- `ok` to false when the policy denies), then, once every policy of the request has been
-- checked, the finish for each key (`allowed`: whether every policy allowed).
--
-- A key holds one integer naming its count and the window the count belongs to:
--
-- - on the server's clock (production): count * 2 + window parity, and the key expires at
--   the window's end exactly (PEXPIREAT). The value stays below 10,000 for limits under
--   5,000, so Redis keeps no object for it (a shared integer). The parity tells a key of
--   the previous window apart while Redis has not yet expired it (a script sees keys as of
--   its start, and reads TIME later);
-- - on a caller's clock (a throttle's `timer`, tests): code * 2^32 + count, where code =
--   window mod 2^20, plus 1, since the key then lives a minute longer than its window.
--
-- A count from another window (or a new key) starts over at 1. A value of the other form
-- (the same key used with both clocks) starts over too.
--
-- Every policy is counted when checked; when any policy of the request denies, the finish
-- takes the count back, so the request consumes one unit of each policy or nothing at all.
--
-- Fills out[3k .. 3k + 2]: remaining after this request, the end of the window
-- (microseconds) and how long a denying policy wants the client to wait (0 for a policy
-- that allows). `now`, `slack` and `out` come from clock.lua.
-- @prelude
local fixed_window_span = 4294967296
local fixed_window_step = 1
if slack == 0 then
  fixed_window_step = 2
end
-- @check
local key = KEYS[k]
local limit = tonumber(ARGV[a])
local period = tonumber(ARGV[a + 1])
-- Integer division from a double quotient, corrected where the quotient rounded.
local window = math.floor(now / period)
if window * period > now then
  window = window - 1
elseif (window + 1) * period <= now then
  window = window + 1
end
local reset = (window + 1) * period
local count
if fixed_window_step == 2 then
  local parity = window % 2
  -- Limits are at most 10^9 (rates.MAX_LIMIT): a value of this form stays below 2^32.
  local value = redis.call("INCRBY", key, 2)
  count = (value - parity) / 2
  if value >= fixed_window_span or value % 2 ~= parity then
    count = 1
    redis.call("SET", key, string.format("%d", 2 + parity))
    redis.call("PEXPIREAT", key, string.format("%d", reset / 1000))
  elseif value == 2 then
    -- A new key (a stored count is at least 1): it ends with its window.
    redis.call("PEXPIREAT", key, string.format("%d", reset / 1000))
  end
else
  local code = window % 1048576 + 1
  local value = redis.call("INCR", key)
  count = value % fixed_window_span
  if value - count ~= code * fixed_window_span then
    count = 1
    local ttl = math.ceil((reset - now) / 1000) + slack
    redis.call("SET", key, string.format("%d", code * fixed_window_span + 1),
      "PX", string.format("%d", ttl))
  end
end
out[3 * k + 1] = reset
if count > limit then
  out[3 * k] = 0
  out[3 * k + 2] = reset - now
  ok = false
else
  out[3 * k] = limit - count
  out[3 * k + 2] = 0
end
-- @finish
if not allowed then
  redis.call("DECRBY", KEYS[k], fixed_window_step)
end
