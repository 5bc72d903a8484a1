-- Settle a reservation: give back what was reserved, count what the call really used.
-- KEYS: the day hash the reservation was made in. ARGV: kind, reserved amount, ttl (s),
-- then field, increment pairs (the kind's total among them).
redis.call('HINCRBY', KEYS[1], 'reserved:' .. ARGV[1], -tonumber(ARGV[2]))
for i = 4, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
