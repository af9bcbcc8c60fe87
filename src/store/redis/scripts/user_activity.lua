local now, prefix = tonumber(ARGV[1]), ARGV[2]
local live, last = 0, 0
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'REV', 'WITHSCORES')
for i = 1, #entries, 2 do
  local expires = tonumber(redis.call('HGET', prefix .. entries[i], 'expires_at'))
  if expires and expires > now then
    live = live + 1
    if last == 0 then last = tonumber(entries[i + 1]) end
  end
end
return {live, last}
