-- A gateway could not send the render message: store the version's failed record, but
-- only while the stored record is still queued (a compare-and-set, so a worker that did
-- get the message and moved the record on is never overwritten).
-- KEYS: renders. ARGV: version, the failed record's JSON.
-- Returns 1 stored, 0 the record was no longer queued, -1 no such version.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if cjson.decode(current)['status'] ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
