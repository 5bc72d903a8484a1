-- Create a session unless its key exists.
-- KEYS: session. ARGV: name, createdAt. activeAt (epoch s, the server's clock) is what
-- idle-session expiry reads; pushes and render requests move it.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'createdAt', ARGV[2], 'googleScopes', '[]',
           'activeAt', redis.call('TIME')[1])
return 1
