-- Set one field of a hash that must exist. 0 when it does not.
-- KEYS: the hash. ARGV: field, value.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
