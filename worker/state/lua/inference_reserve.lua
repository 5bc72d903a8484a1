-- Reserve what one model call may use, unless the day's use and the calls still in flight
-- would then pass the quota: a reservation is counted until the call settles, so calls
-- made at the same moment cannot pass the quota together.
-- KEYS: the app's day hash. ARGV: kind (tokens|images), amount, quota (0: none), ttl (s).
-- Returns {1, used, reserved} when reserved, {0, used, reserved} when refused.
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved:' .. ARGV[1]) or '0')
local amount, quota = tonumber(ARGV[2]), tonumber(ARGV[3])
if quota > 0 and used + reserved + amount > quota then
  return {0, used, reserved}
end
redis.call('HINCRBY', KEYS[1], 'reserved:' .. ARGV[1], amount)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {1, used, reserved}
