#!/usr/bin/env bash
# Install what the tests need, run the lint gate (ruff, mypy), then run the whole suite. This is
# the README's test command and what CI runs (.ci/run). Slow soak/scale/benchmark tests are
# skipped unless LEDIS_SLOW=1.
#
# The editable install compiles the hot path in place (setup.py, Cython), so the suite runs
# compiled; then the interpreted fallback (LEDIS_INTERPRETED=1, the same .py files) runs the
# unit tests and the core command, protocol and scripting tests. With arguments, only those
# tests run, compiled (LEDIS_INTERPRETED=1 bash tests/run.sh ARGS runs them interpreted).
set -euo pipefail
cd "$(dirname "$0")/.."

# openssl: the TLS tests make a throwaway CA and certificates with it (tests/tls_helpers.py).
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
   || ! command -v redis-benchmark >/dev/null || ! command -v redis-sentinel >/dev/null \
   || ! command -v nutcracker >/dev/null || ! command -v openssl >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools \
    redis-sentinel nutcracker openssl >/dev/null
fi
# The Debian package starts a system redis on 6379; the tests start their own servers.
# tests/test_console_browser.py drives Debian's chromium through Playwright (no browser download).
if ! command -v chromium >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q -e '.[test]'
# In CI the build must have compiled (tests/test_compiled.py fails on a pure fallback there).
if [ "${CI:-}" = true ]; then export LEDIS_REQUIRE_COMPILED=1; fi
# The lint gate (pyproject.toml configures both): any finding fails the run before the tests.
python3 -m ruff check ledis tests benchmarks examples
python3 -m mypy
WORKERS="${LEDIS_TEST_WORKERS:-2}"
if [ $# -gt 0 ]; then
  exec python3 -m pytest -n "$WORKERS" -q "$@"
fi
python3 -m pytest -n "$WORKERS" -q
echo "--- the core tests again on the interpreted source (LEDIS_INTERPRETED=1) ---"
LEDIS_INTERPRETED=1 exec python3 -m pytest -n "$WORKERS" -q tests/unit tests/test_compiled.py \
  tests/test_protocol.py tests/test_connection.py tests/test_strings.py tests/test_hashes.py \
  tests/test_lists.py tests/test_sets.py tests/test_zsets.py tests/test_keys.py \
  tests/test_expire.py tests/test_transactions.py tests/test_scripting.py tests/test_functions.py
