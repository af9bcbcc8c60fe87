-- wrk script for bench/main.rs: rotates the session cookies listed in a file (one token per
-- line, given after `--`) over the requests, each thread from its own offset, and prints one
-- `WRK {json}` summary line at the end. The floor (/healthz) is run with the same file, so
-- both runs cost wrk the same and put the same bytes on the wire. Without a file it sends
-- wrk's plain request. With BENCH_BROWSER=1 in the environment every request also carries
-- what a browser's does: a desktop Chrome's User-Agent and, before ours, 838 bytes of the
-- site's other cookies (consent, analytics, preferences).

local tokens = {}
local browser = os.getenv("BENCH_BROWSER") == "1"
local user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " ..
  "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
local other_cookies = ""
if browser then
  local parts = {
    "_ga=GA1.1.1827364519.1732540000", "_ga_XYZ123ABC=GS1.1.1732540000.3.1.1732541000.0.0.0",
    "cookie_consent=necessary%2Cpreferences%2Cstatistics", "theme=dark", "locale=en-GB",
    "_gcl_au=1.1.918273645.1732540000", "ajs_anonymous_id=2f1c0e8a-6b7d-4c3e-9f21-8a7b6c5d4e3f",
  }
  for i = 1, 8 do
    parts[#parts + 1] = string.format("pref_%d=%s", i, string.rep(string.char(96 + i), 64))
  end
  other_cookies = table.concat(parts, "; ") .. "; "
end
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
  local headers = { Cookie = other_cookies .. "sessiond_session=" .. tokens[position] }
  if browser then
    headers["User-Agent"] = user_agent
  end
  return wrk.format(nil, nil, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"socket_errors":%d,"bad_status":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
