-- Fixed window, epoch-aligned: at most `limit` requests in each window of `period`.
--
-- KEYS: one per policy, all sharing one hash tag. ARGV[1]: now in microseconds, or an
-- empty string for the server's own TIME. Then, per policy i: ARGV[2i] = limit,
-- ARGV[2i+1] = period in microseconds.
--
-- A key holds one integer, code * 2^32 + count, where code = window mod 2^20, plus 1, names
-- the window the count belongs to. The allowed path is then a single INCR per policy; a
-- count from another window (or a new key, whose code part is 0) starts over at 1. Keys
-- expire a window after their last write, far sooner than a code repeats.
--
-- Every policy is counted first; when any of them denies, every count is taken back, so
-- the request consumes one unit of each policy or nothing at all.
--
-- Returns {allowed, now, remaining_1, reset_1, wait_1, remaining_2, ...}: remaining after
-- this request, the end of the window (microseconds) and how long a denying policy wants
-- the client to wait (0 for a policy that allows).
local now = tonumber(ARGV[1])
-- Keys written at a caller's time live a minute longer (CLOCK_SLACK_MS in base.py).
local slack = 60000
if not now then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  slack = 0
end
local span = 4294967296
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
  local code = window % 1048576 + 1
  local reset = (window + 1) * period
  local value = redis.call("INCR", KEYS[i])
  local count = value % span
  if value - count ~= code * span then
    count = 1
    local ttl = math.ceil((reset - now) / 1000) + slack
    redis.call("SET", KEYS[i], string.format("%d", code * span + 1), "PX", string.format("%d", ttl))
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
    redis.call("DECR", KEYS[i])
    if out[3 * i + 2] == 0 then
      out[3 * i] = out[3 * i] + 1
    end
  end
end
return out
