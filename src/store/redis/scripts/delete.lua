local late = refuse_past(ARGV[3]) if late then return late end
local fields = read_session(KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if not fields[1] then return '[]' end
redis.call('SET', KEYS[3], ARGV[2], 'XX', 'KEEPTTL')
return encode_sessions({fields})
