-- The clock every script starts with (algorithms.py puts it before each script's source).
--
-- ARGV[1]: now in microseconds, or an empty string for the server's own TIME. Sets `now`
-- (microseconds) and `slack` (how long, in milliseconds, keys outlive their state: 0 on
-- the server's clock).
local now = tonumber(ARGV[1])
-- Keys written at a caller's time live a minute longer (CLOCK_SLACK_MS in base.py).
local slack = 60000
if not now then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  slack = 0
end
-- The reply: {allowed, now, remaining_1, reset_1, wait_1, remaining_2, ...}, filled by the
-- algorithms' checks (three numbers per key) and the driver.
local out = {1, now}
