-- wrk script for bench/main.rs: rotates the session cookies listed in a file (one token per
-- line, given after `--`) over the requests, each thread from its own offset, and prints one
-- `WRK {json}` summary line at the end. The floor (/healthz) is run with the same file, so
-- both runs cost wrk the same and put the same bytes on the wire. Without a file it sends
-- wrk's plain request.

local tokens = {}
local position = 0
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  if args[1] then
    for line in io.lines(args[1]) do
      tokens[#tokens + 1] = line
    end
  end
  -- Threads start far apart so they do not ask for the same sessions in lockstep.
  position = (thread_index or 0) * 7919
end

function request()
  if #tokens == 0 then
    return wrk.request()
  end
  position = position % #tokens + 1
  return wrk.format(nil, nil, { Cookie = "sessiond_session=" .. tokens[position] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"socket_errors":%d,"bad_status":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
