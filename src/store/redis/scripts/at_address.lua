local now = tonumber(ARGV[3])
local entries = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX')
local live, stale = {}, {}
-- A thousand at a time: two ZMSCOREs instead of two ZSCOREs an entry.
for first = 1, #entries, 1000 do
  local members, kept = {}, {}
  for i = first, math.min(first + 999, #entries) do
    -- ADDRESS|ABSOLUTE|MEMBER: plain searches for the two bars.
    local skip = (string.find(entries[i], '|', 1, true) or #entries[i]) + 1
    local bar = string.find(entries[i], '|', skip, true)
    local absolute = bar and tonumber(string.sub(entries[i], skip, bar - 1))
    if absolute and absolute > now then
      local member = string.sub(entries[i], bar + 1)
      members[#members + 1] = member
      kept[#kept + 1] = entries[i]
    else
      stale[#stale + 1] = entries[i]
    end
  end
  if #members > 0 then
    local active = redis.call('ZMSCORE', KEYS[2], unpack(members))
    local expires = redis.call('ZMSCORE', KEYS[3], unpack(members))
    for j = 1, #members do
      if active[j] and (not expires[j] or tonumber(expires[j]) > now) then
        live[#live + 1] = kept[j]
        live[#live + 1] = active[j]
      else
        stale[#stale + 1] = kept[j]
      end
    end
  end
end
for i = 1, #stale, 1000 do
  redis.call('ZREM', KEYS[1], unpack(stale, i, math.min(i + 999, #stale)))
end
return live
