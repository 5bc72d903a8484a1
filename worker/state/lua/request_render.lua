-- Assign the next version and store its queued record. 0 when the session is gone.
-- KEYS: session, version counter, renders. ARGV: the record's JSON before and after
-- its version number.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'activeAt', redis.call('TIME')[1])
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], version, ARGV[1] .. version .. ARGV[2])
return version
