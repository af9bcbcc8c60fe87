-- KEYS: the tally. Returns {count, milliseconds until it expires}, {0, 0} when none is kept.
local count = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if not count or ttl < 0 then
  return {0, 0}
end
return {tonumber(count), ttl}
