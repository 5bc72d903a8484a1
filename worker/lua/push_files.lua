-- Store every file or none, within the per-session limits.
-- KEYS: session, files, binary. ARGV: max files, max bytes, then (path, content, binary).
-- Returns {count, total}; {-1, 0} no session, {-2, count} too many files,
-- {-3, total} too many bytes.
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local count = redis.call('HLEN', KEYS[2])
local total = 0
for _, path in ipairs(redis.call('HKEYS', KEYS[2])) do
  total = total + redis.call('HSTRLEN', KEYS[2], path)
end
for i = 3, #ARGV, 3 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then count = count + 1 end
  total = total - redis.call('HSTRLEN', KEYS[2], ARGV[i]) + string.len(ARGV[i + 1])
end
if count > tonumber(ARGV[1]) then return {-2, count} end
if total > tonumber(ARGV[2]) then return {-3, total} end
for i = 3, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SADD', KEYS[3], ARGV[i])
  else
    redis.call('SREM', KEYS[3], ARGV[i])
  end
end
return {count, total}
