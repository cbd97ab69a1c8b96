#!/usr/bin/env bash
# Install what the tests need, run the lint gate (ruff, mypy), then run the whole suite. This is
# the README's test command and what CI runs (.ci/run). Slow soak/scale/benchmark tests are
# skipped unless LEDIS_SLOW=1. In CI (CI=true, no arguments) the compiled mode is tested too,
# after the whole suite (below; LEDIS_CI_COMPILED=0 leaves it out).
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
if [ "${CI:-}" != true ] || [ "${LEDIS_CI_COMPILED:-1}" = 0 ] || [ $# -gt 0 ]; then
  exec python3 -m pytest -n "${LEDIS_TEST_WORKERS:-2}" -q "$@"
fi
# CI (issue #19): the whole suite on the pure-Python install, then the compiled mode as well.
# The hot modules are compiled in place by Cython from the same .py files (setup.py, HOT: ~1.5
# min here), and the suites of what they run (protocol, connection, the five types, keys,
# expiry, transactions, scripting, functions, the unit tests) run again against the .so files;
# LEDIS_REQUIRE_COMPILED=1 fails tests/test_compiled.py if the build fell back to pure Python.
python3 -m pytest -n "${LEDIS_TEST_WORKERS:-2}" -q
# Cython's C needs a compiler and Python's headers (a pyenv or python.org build has them)
PY_H="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h"
if ! command -v gcc >/dev/null || [ ! -f "$PY_H" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc python3-dev >/dev/null
fi
LEDIS_COMPILE=1 python3 -m pip install -q --no-deps -e .
LEDIS_REQUIRE_COMPILED=1 exec python3 -m pytest -n "${LEDIS_TEST_WORKERS:-2}" -q \
  tests/test_compiled.py tests/test_protocol.py tests/test_connection.py tests/test_strings*.py \
  tests/test_hashes*.py tests/test_lists*.py tests/test_sets*.py tests/test_zsets*.py \
  tests/test_keys*.py tests/test_expire*.py tests/test_transactions*.py tests/test_scripting*.py \
  tests/test_functions.py tests/test_functions_unit.py tests/unit
