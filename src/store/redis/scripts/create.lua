local late = refuse_past(ARGV[10]) if late then return late end
local index, session = KEYS[1], KEYS[2]
local now, max, evict, prefix = tonumber(ARGV[1]), math.max(tonumber(ARGV[2]), 1), ARGV[3] == '1', ARGV[4]
local live = live_members(index, prefix, now, {'expires_at', 'ip_address', 'last_ip_address'}, 1)
local addresses, evicted = {}, {}
local excess = 0
if #live >= max then
  if not evict then return {0} end
  excess = #live + 1 - max
  for i = 1, excess do
    local member = live[i][1]
    evicted[#evicted + 1] = read_session(prefix .. member)
    redis.call('DEL', prefix .. member)
    redis.call('ZREM', index, member)
  end
  redis.call('SET', KEYS[3], ARGV[9], 'XX', 'KEEPTTL')
end
for i = excess + 1, #live do
  addresses[#addresses + 1] = live[i][2][2]
  if live[i][2][3] then addresses[#addresses + 1] = live[i][2][3] end
end
redis.call('HSET', session, unpack(ARGV, 11))
redis.call('PEXPIREAT', session, ARGV[7])
redis.call('ZADD', index, ARGV[6], ARGV[5])
redis.call('PEXPIREAT', index, ARGV[8], 'NX')
redis.call('PEXPIREAT', index, ARGV[8], 'GT')
redis.call('SET', KEYS[3], ARGV[9], 'NX')
redis.call('PEXPIREAT', KEYS[3], ARGV[8], 'NX')
redis.call('PEXPIREAT', KEYS[3], ARGV[8], 'GT')
return {1, addresses, encode_sessions(evicted)}
