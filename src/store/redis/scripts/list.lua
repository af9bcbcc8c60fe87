local sessions = {}
for _, live in ipairs(live_members(KEYS[1], ARGV[2], tonumber(ARGV[1]), SESSION_FIELDS, EXPIRES_AT)) do
  sessions[#sessions + 1] = live[2]
end
return encode_sessions(sessions)
