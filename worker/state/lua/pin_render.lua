-- Keep a ready version from retention while a publish copies it.
-- KEYS: renders, pins. ARGV: version, until (epoch s).
-- Returns 1 pinned, 0 the version is not ready (expired, failed, or gone).
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or cjson.decode(current)['status'] ~= 'ready' then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
