-- Claim a routed render for one copy of its message (the holder's or the fallback).
-- KEYS[1] the session's builder hash. ARGV: version, task id, node, ttl (s), force ("1").
-- Field "claim:<version>" holds "<task id> <node>" of the copy that claimed it. Returns
-- {1} when this copy holds the claim (new, or its own from an earlier delivery, or taken
-- over with force), else {0, "<task id> <node>"} of the copy holding it.
local field = "claim:" .. ARGV[1]
local held = redis.call('HGET', KEYS[1], field)
local mine = ARGV[2] .. " " .. ARGV[3]
if held and ARGV[5] ~= "1" then
  local task = string.match(held, "^(%S+)")
  if task ~= ARGV[2] then
    return {0, held}
  end
end
-- Claims of versions well before this one can no longer have a second copy coming.
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  local v = tonumber(string.match(name, "^claim:(%d+)$"))
  if v and v < tonumber(ARGV[1]) - 16 then
    redis.call('HDEL', KEYS[1], name)
  end
end
redis.call('HSET', KEYS[1], field, mine, 'node', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {1}
