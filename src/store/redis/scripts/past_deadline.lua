-- Ends the script, changing nothing, once Redis's clock has passed `deadline` (milliseconds
-- since the epoch): its caller has stopped waiting by then and reported a failure, so a
-- write that reaches Redis late must not happen behind that report.
local function refuse_past(deadline)
  local clock = redis.call('TIME')
  if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(deadline) then
    return redis.error_reply('sessiond: arrived after its deadline; nothing changed')
  end
end
