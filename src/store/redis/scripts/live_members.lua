local function read_session(key)
  return redis.call('HMGET', key, unpack(SESSION_FIELDS))
end
local function live_members(index, prefix, now, fields, expires_at)
  local live = {}
  for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local values = redis.call('HMGET', prefix .. member, unpack(fields))
    local expires = tonumber(values[expires_at])
    if expires and expires > now then
      live[#live + 1] = {member, values}
    else
      redis.call('ZREM', index, member)
    end
  end
  return live
end
-- Sessions' fields as one JSON array of arrays: cjson writes an empty table as {}, and a
-- field missing (HMGET's false) as null.
local function encode_sessions(sessions)
  if #sessions == 0 then return '[]' end
  for _, values in ipairs(sessions) do
    for i = 1, #SESSION_FIELDS do
      if values[i] == false then values[i] = cjson.null end
    end
  end
  return cjson.encode(sessions)
end
