-- Create a session unless its key exists.
-- KEYS: session. ARGV: name, createdAt.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'createdAt', ARGV[2], 'googleScopes', '[]')
return 1
