local late = refuse_past(ARGV[5]) if late then return late end
local now, prefix, all = tonumber(ARGV[1]), ARGV[2], ARGV[4] == '1'
redis.call('SET', KEYS[2], ARGV[3], 'XX', 'KEEPTTL')
local live, doomed, details = 0, {KEYS[1]}, {}
local listed = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #listed, 2 do
  local session = prefix .. listed[i]
  local expires
  if all then
    local fields = redis.call('HMGET', session, 'expires_at', 'id')
    expires = fields[1]
    details[i] = fields[2] or ''
    details[i + 1] = fields[1] or ''
  else
    expires = redis.call('HGET', session, 'expires_at')
  end
  expires = tonumber(expires)
  if expires and expires > now then live = live + 1 end
  doomed[#doomed + 1] = session
  -- One DEL per thousand keys: fewer calls, and well inside unpack's limit.
  if #doomed == 1000 then
    redis.call('DEL', unpack(doomed))
    doomed = {}
  end
end
if #doomed > 0 then redis.call('DEL', unpack(doomed)) end
return {live, listed, details}
