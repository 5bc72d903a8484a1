-- Store a render record unless its version already ended; move live forward on ready.
-- KEYS: renders, live. ARGV: version, new record JSON, new status, then the terminal
-- statuses (the worker passes its own list, so it is defined once).
-- Returns 1 stored, 0 the version had ended, -1 no such version.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
local status = cjson.decode(current)['status']
for i = 4, #ARGV do
  if status == ARGV[i] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == 'ready' then
  local live = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tonumber(ARGV[1]) > live then redis.call('SET', KEYS[2], ARGV[1]) end
end
return 1
