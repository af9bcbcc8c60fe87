local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local pending = 0
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  if redis.call('SISMEMBER', KEYS[2], node) == 0 then pending = pending + 1 end
end
return pending
