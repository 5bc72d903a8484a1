-- Remove a sorted-set member unless its score moved past the one given (it was touched
-- again meanwhile). KEYS: the sorted set. ARGV: member, score. Returns 1 removed, 0 not.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
