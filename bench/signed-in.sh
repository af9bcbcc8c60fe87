# Sourced by bench/instructions and bench/cpu-split: a throwaway SQLite store with one user
# signed in $sessions times, tokens in "$work/tokens", and helpers to run a server on it.
# Set before sourcing: binary, sessions, port and port_variable (the setting that changes
# the port); tools and install name what else the caller needs and its packages.
# Not part of `cargo test` or CI.
for tool in ${tools:-} wrk curl; do
  command -v "$tool" >/dev/null || {
    echo "$tool is missing: apt-get install ${install:-} wrk curl" >&2
    exit 2
  }
done
[ -x "$binary" ] || cargo build --release --quiet
[[ "$sessions" =~ ^[1-9][0-9]*$ ]] || {
  echo "SESSIONS must be a positive number, not '$sessions'" >&2
  exit 2
}
url="http://127.0.0.1:$port"
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# Activity writes at most once an hour and no idle expiry while measuring: a session's
# write once a minute would otherwise fall due in the middle of a count or a run.
cat >"$work/sessiond.toml" <<TOML
[server]
listen = "127.0.0.1:$port"

[sessions]
max_per_user = $((sessions + 1))
idle_timeout = "12h"
activity_write_interval = "1h"

[storage]
sessions = "sqlite://$work/sessiond.db"
directory = "sqlite://$work/sessiond.db"
TOML
run() { "$binary" --config "$work/sessiond.toml" "$@"; }
wait_ready() {
  for _ in $(seq 120); do
    curl -fso /dev/null "$url/healthz" && return
    sleep 0.5
  done
  echo "the server did not answer on $url" >&2
  exit 1
}
# Starts a plain server on the store in the background and waits until it answers.
start_server() {
  "$binary" --config "$work/sessiond.toml" serve >/dev/null 2>"$work/serve.log" &
  server=$!
  wait_ready
}

if curl -so /dev/null "$url/healthz"; then
  echo "something already answers on $url: set $port_variable" >&2
  exit 1
fi
# The password "instructions" under the cheapest Argon2id parameters, so that signing in
# thousands of times takes seconds; only this throwaway database ever holds it.
hash='$argon2id$v=19$m=64,t=1,p=1$4/lK6kfIIl3zETw6sfmnZQ$MRDrch18r+si14tMeHgWAZg7i3d8izy+LKyxyawx6Zs'
printf '{"users": [{"username": "bench", "email": "bench@example.com", "password_hash": "%s"}]}' \
  "$hash" >"$work/import.json"
run import "$work/import.json" >/dev/null
# Sign in on a plain server, then measure on another.
start_server
echo "signing in $sessions times" >&2
for _ in $(seq "$sessions"); do
  curl -fs -H 'Content-Type: application/json' -d '{"login":"bench","password":"instructions"}' \
    "$url/api/login" | grep -o '"token":"[^"]*"' | cut -d'"' -f4
done >"$work/tokens"
kill "$server"
wait "$server" 2>/dev/null || true
server=
[ "$(wc -l <"$work/tokens")" -eq "$sessions" ] || {
  echo "signing in gave $(wc -l <"$work/tokens") tokens, not $sessions" >&2
  exit 1
}
