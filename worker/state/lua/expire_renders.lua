-- Turn ended versions past the session's retention into tombstones, and remember them so
-- their objects get deleted.
-- KEYS: renders, live, version counter, pins, trash. ARGV: now (epoch s), versions kept
-- (the newest N), terminal statuses (JSON array), then (version, tombstone JSON) pairs.
-- A version is left as it is when it is live, among the newest N, not ended, already
-- expired, gone, or pinned by a publish until after now. Returns the versions expired.
local now = tonumber(ARGV[1])
local newest = tonumber(redis.call('GET', KEYS[3]) or '0')
local live = tonumber(redis.call('GET', KEYS[2]) or '0')
local terminal = {}
for _, status in ipairs(cjson.decode(ARGV[3])) do terminal[status] = true end
local expired = {}
for i = 4, #ARGV, 2 do
  local version = tonumber(ARGV[i])
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local pinned = tonumber(redis.call('HGET', KEYS[4], ARGV[i]) or '0')
  if current and version ~= live and version <= newest - tonumber(ARGV[2])
      and pinned <= now then
    local status = cjson.decode(current)['status']
    if terminal[status] and status ~= 'expired' then
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
      redis.call('SADD', KEYS[5], ARGV[i])
      table.insert(expired, version)
    end
  end
end
return expired
