local step = redis.call('ZSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[3])
local now, dead, entries = tonumber(ARGV[2]), {}, step[2]
for i = 1, #entries, 2 do
  local absolute = tonumber(string.match(entries[i], '|(%d+)|[^|]*$'))
  if absolute and absolute <= now then dead[#dead + 1] = entries[i] end
end
if #dead > 0 then redis.call('ZREM', KEYS[1], unpack(dead)) end
return step[1]
