-- KEYS: the tally. ARGV: its time to live in milliseconds, extend (1/0).
-- Counts one failure; a new tally (or with extend, every one) expires ARGV[1] ms from now.
local count = redis.call('INCR', KEYS[1])
if count == 1 or ARGV[2] == '1' then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
