#!/usr/bin/env bash
# Install what the tests need, run the lint gate (ruff, mypy), then run the whole suite. This is
# the README's test command and what CI runs (.ci/run). Slow soak/scale/benchmark tests are
# skipped unless LEDIS_SLOW=1.
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
# The lint gate (pyproject.toml configures both): any finding fails the run before the tests.
python3 -m ruff check ledis tests benchmarks examples
python3 -m mypy
exec python3 -m pytest -n "${LEDIS_TEST_WORKERS:-2}" -q "$@"
