-- Fixed window, epoch-aligned: at most `limit` requests in each window of `period`.
--
-- KEYS: one per policy, all sharing one hash tag. ARGV[1]: now in microseconds, or an
-- empty string for the server's own TIME. Then, per policy i: ARGV[2i] = limit,
-- ARGV[2i+1] = period in microseconds.
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
-- Every policy is counted first; when any of them denies, every count is taken back, so
-- the request consumes one unit of each policy or nothing at all.
--
-- Returns {allowed, now, remaining_1, reset_1, wait_1, remaining_2, ...}: remaining after
-- this request, the end of the window (microseconds) and how long a denying policy wants
-- the client to wait (0 for a policy that allows).
-- `now` and `slack` come from clock.lua, which the loader puts before this script.
local span = 4294967296
local step = 1
if slack == 0 then
  step = 2
end
local out = {1, now}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  -- Integer division from a double quotient, corrected where the quotient rounded.
  local window = math.floor(now / period)
  if window * period > now then
    window = window - 1
  elseif (window + 1) * period <= now then
    window = window + 1
  end
  local reset = (window + 1) * period
  local count
  if step == 2 then
    local parity = window % 2
    -- Limits are at most 10^9 (rates.MAX_LIMIT): a value of this form stays below 2^32.
    local value = redis.call("INCRBY", KEYS[i], 2)
    count = (value - parity) / 2
    if value >= span or value % 2 ~= parity then
      count = 1
      redis.call("SET", KEYS[i], string.format("%d", 2 + parity))
      redis.call("PEXPIREAT", KEYS[i], string.format("%d", reset / 1000))
    elseif value == 2 then
      -- A new key (a stored count is at least 1): it ends with its window.
      redis.call("PEXPIREAT", KEYS[i], string.format("%d", reset / 1000))
    end
  else
    local code = window % 1048576 + 1
    local value = redis.call("INCR", KEYS[i])
    count = value % span
    if value - count ~= code * span then
      count = 1
      local ttl = math.ceil((reset - now) / 1000) + slack
      redis.call("SET", KEYS[i], string.format("%d", code * span + 1), "PX", string.format("%d", ttl))
    end
  end
  if count > limit then
    out[1] = 0
    out[3 * i] = 0
    out[3 * i + 2] = reset - now
  else
    out[3 * i] = limit - count
    out[3 * i + 2] = 0
  end
  out[3 * i + 1] = reset
end
if out[1] == 0 then
  for i = 1, #KEYS do
    redis.call("DECRBY", KEYS[i], step)
    if out[3 * i + 2] == 0 then
      out[3 * i] = out[3 * i] + 1
    end
  end
end
return out
