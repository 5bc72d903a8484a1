-- Point a channel at an app version; its revision only grows.
-- KEYS: app, versions, channels. ARGV: channel, appVersionSid, now.
-- Returns the new revision; -1 no app, -2 no such version, -3 the app is archived.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return -2 end
if redis.call('HGET', KEYS[1], 'status') == 'archived' then return -3 end
local current = redis.call('HGET', KEYS[3], ARGV[1])
local revision = 1
if current then revision = cjson.decode(current)['revision'] + 1 end
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(
  {appVersionSid = ARGV[2], revision = revision, updatedAt = ARGV[3]}))
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
return revision
