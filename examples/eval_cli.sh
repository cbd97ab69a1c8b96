#!/bin/sh
# EVAL from redis-cli: a script runs atomically on the server; the `ledis` table calls
# commands by name (ledis.incr(k) is redis.call('incr', k)).
# Usage: examples/eval_cli.sh [port]   (a ledis server must be listening; default 6380)
set -e
PORT=${1:-6380}
cli() { redis-cli -p "$PORT" "$@"; }

cli DEL ex:visits ex:last >/dev/null
echo "# plain EVAL: count a visit and remember who came last"
cli EVAL "redis.call('SET', KEYS[2], ARGV[1]) return redis.call('INCR', KEYS[1])" 2 ex:visits ex:last alice
echo "# the same with the ledis table"
cli EVAL "ledis.set(KEYS[2], ARGV[1]) return ledis.incr(KEYS[1])" 2 ex:visits ex:last bob
echo "# non-raising form: ledis.pcall.<cmd> returns {err=...} instead of raising"
cli EVAL "local r = ledis.pcall.hset(KEYS[1], 'f', 'v') return r.err or 'no error'" 1 ex:visits
echo "# SCRIPT LOAD + EVALSHA"
SHA=$(cli SCRIPT LOAD "return ledis.get(KEYS[1])")
cli EVALSHA "$SHA" 1 ex:last
