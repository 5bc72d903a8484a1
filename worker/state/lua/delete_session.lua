-- Delete every key of a session's data; with a cutoff, only if it was idle since then.
-- KEYS: session, renders, then the session's other data keys. ARGV: the idle cutoff
-- (epoch s), or '' for a delete on purpose.
-- Returns {1, inputHash, version, ...} deleted (the input hashes of its ready versions,
-- for the reuse index), {0} there was no session, {-1, activeAt} it was active since.
if ARGV[1] ~= '' then
  local active = tonumber(redis.call('HGET', KEYS[1], 'activeAt') or '0')
  if active > tonumber(ARGV[1]) then return {-1, tostring(active)} end
end
local found = redis.call('EXISTS', KEYS[1])
local reply = {found}
local records = redis.call('HGETALL', KEYS[2])
for i = 2, #records, 2 do
  local record = cjson.decode(records[i])
  if record['status'] == 'ready' and type(record['inputHash']) == 'string' then
    table.insert(reply, record['inputHash'])
    table.insert(reply, records[i - 1])
  end
end
redis.call('DEL', unpack(KEYS))
return reply
