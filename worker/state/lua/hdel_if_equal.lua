-- Remove a hash field only while it still holds the value given.
-- KEYS: the hash. ARGV: field, value. Returns 1 removed, 0 not.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
