local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #dead == 0 then return {0, 0} end
local listed = redis.call('ZREM', KEYS[1], unpack(dead))
redis.call('ZREM', KEYS[2], unpack(dead))
return {#dead, listed}
