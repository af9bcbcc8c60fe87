local was = redis.call('HMGET', KEYS[1], 'absolute_expires_at', 'ip_address', 'last_ip_address')
if not was[1] then return {0, '', ''} end
redis.call('HSET', KEYS[1], 'last_ip_address', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'XX', 'KEEPTTL')
return {tonumber(was[1]), was[3] or was[2] or '', was[2] or ''}
