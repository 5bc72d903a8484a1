-- Store every file or none, within the per-session limits.
-- KEYS: session, files, binary.
-- ARGV: max files, max bytes, n = how many stored paths to remove first (paths that break
-- the path rules; 0 for none), those n paths, then (path, content, binary) per file,
-- binary "1" when the file was pushed as base64, else "0".
-- Returns {count, total} (files and bytes the session then holds); {-1, 0} no session,
-- {-2, count} too many files, {-3, total} too many bytes. Nothing is written unless the
-- whole push fits.
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local removed = tonumber(ARGV[3])
if not removed then
  return redis.error_reply('push_files: ARGV[3] must be how many stored paths to remove (0 for none)')
end
local first = 4 + removed
local dropped = {}
for i = 4, first - 1 do dropped[ARGV[i]] = true end
local count = 0
local total = 0
for _, path in ipairs(redis.call('HKEYS', KEYS[2])) do
  if not dropped[path] then
    count = count + 1
    total = total + redis.call('HSTRLEN', KEYS[2], path)
  end
end
for i = first, #ARGV, 3 do
  if dropped[ARGV[i]] or redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    count = count + 1
  else
    total = total - redis.call('HSTRLEN', KEYS[2], ARGV[i])
  end
  total = total + string.len(ARGV[i + 1])
end
if count > tonumber(ARGV[1]) then return {-2, count} end
if total > tonumber(ARGV[2]) then return {-3, total} end
for i = 4, first - 1 do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('SREM', KEYS[3], ARGV[i])
end
for i = first, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SADD', KEYS[3], ARGV[i])
  else
    redis.call('SREM', KEYS[3], ARGV[i])
  end
end
redis.call('HSET', KEYS[1], 'activeAt', redis.call('TIME')[1])
return {count, total}
