#!/bin/sh
# Load stdlib libraries with redis-cli (or `ledis functions load lock --port N`) and call them.
# Usage: examples/stdlib_cli.sh [port]   (run from the repository root; default port 6380)
set -e
PORT=${1:-6380}
HERE=$(dirname "$0")/..
cli() { redis-cli -p "$PORT" "$@"; }

redis-cli -p "$PORT" -x FUNCTION LOAD REPLACE < "$HERE/ledis/stdlib/lock.lua"
redis-cli -p "$PORT" -x FUNCTION LOAD REPLACE < "$HERE/ledis/stdlib/ratelimit.lua"
cli DEL ex:lock ex:lock:fence ex:bucket >/dev/null
echo "# lock: alice gets fencing token 1, bob is refused (nil), alice releases"
TOKEN=$(cli FCALL lock_acquire 1 ex:lock alice 10000)
echo "alice token=$TOKEN"
echo "bob: [$(cli FCALL lock_acquire 1 ex:lock bob 10000)]"
cli FCALL lock_owner 1 ex:lock
cli FCALL lock_release 1 ex:lock alice "$TOKEN"
echo "# ratelimit: bucket of 2 tokens refilled at 1/s -> allowed, remaining, retry-after ms"
for i in 1 2 3; do cli FCALL rl_bucket 1 ex:bucket 2 1 | tr '\n' ' '; echo; done
cli FUNCTION LIST LIBRARYNAME lock
