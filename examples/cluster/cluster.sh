#!/usr/bin/env bash
# Start / stop the example ledis cluster on loopback (docs/cluster.md):
#   3 groups (master + replica) of ledis, 3 redis-sentinel, 1 nutcracker (twemproxy).
#
#   examples/cluster/cluster.sh start    # ports from CLUSTER_BASE (default 7000), see below
#   examples/cluster/cluster.sh status
#   examples/cluster/cluster.sh stop     # by the PIDs recorded at start, never by name
#
# Ports (BASE = $CLUSTER_BASE): group n master BASE+n, its replica BASE+10+n (n = 1..3),
# Sentinels BASE+101..103, twemproxy BASE+200 (stats BASE+222).
# Everything lives in $CLUSTER_DIR (default ./cluster-run): configs, data, logs, *.pid.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BASE="${CLUSTER_BASE:-7000}"
RUN="${CLUSTER_DIR:-$PWD/cluster-run}"
PY="${PYTHON:-python3}"
PROXY=$((BASE + 200))
STATS=$((BASE + 222))

wait_port() {  # port [seconds]
  local deadline=$(( $(date +%s) + ${2:-20} ))
  until redis-cli -p "$1" ping >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "port $1 did not answer" >&2; return 1; }
    sleep 0.1
  done
}

fill() {  # template -> stdout with the ports filled in
  sed -e "s|@M1@|$((BASE + 1))|g" -e "s|@M2@|$((BASE + 2))|g" -e "s|@M3@|$((BASE + 3))|g" \
      -e "s|@PROXY@|$PROXY|g" -e "s|@DIR@|$RUN|g" -e "s|@STATS@|$STATS|g" "$1"
}

start_ledis() {  # port [master-port]
  local port=$1 conf="$RUN/ledis-$1.yaml"
  if [ ! -f "$conf" ]; then  # keep an existing copy: it holds what CONFIG REWRITE recorded
    cp "$HERE/ledis.yaml" "$conf"
    printf '\nport: %s\ndir: "%s"\nlogfile: "%s"\n' "$port" "$RUN/data-$port" \
      "$RUN/ledis-$port.log" >> "$conf"
    [ -z "${2:-}" ] || printf 'replicaof: "127.0.0.1 %s"\n' "$2" >> "$conf"
  fi
  (cd "$ROOT" && exec "$PY" -m ledis server --config "$conf" >>"$RUN/ledis-$port.out" 2>&1) &
  echo $! > "$RUN/ledis-$port.pid"
}

start() {
  mkdir -p "$RUN"
  for n in 1 2 3; do start_ledis $((BASE + n)); done
  for n in 1 2 3; do wait_port $((BASE + n)); done
  for n in 1 2 3; do start_ledis $((BASE + 10 + n)) $((BASE + n)); done
  for n in 1 2 3; do wait_port $((BASE + 10 + n)); done

  fill "$HERE/reconfig.sh" > "$RUN/reconfig.sh"; chmod +x "$RUN/reconfig.sh"
  for n in 1 2 3; do
    local port=$((BASE + 100 + n)) conf="$RUN/sentinel-$((BASE + 100 + n)).conf"
    if [ ! -f "$conf" ]; then
      { echo "port $port"; echo "dir $RUN"; echo "logfile $RUN/sentinel-$port.log"
        fill "$HERE/sentinel.conf"; } > "$conf"
    fi
    redis-sentinel "$conf" >/dev/null 2>&1 &
    echo $! > "$RUN/sentinel-$port.pid"
  done
  for n in 1 2 3; do wait_port $((BASE + 100 + n)); done

  [ -f "$RUN/nutcracker.yml" ] || fill "$HERE/nutcracker.yml" > "$RUN/nutcracker.yml"
  start_proxy
  wait_port "$PROXY"
  echo "cluster up: proxy 127.0.0.1:$PROXY, sentinels $((BASE + 101))-$((BASE + 103)), data in $RUN"
}

start_proxy() {
  nutcracker -c "$RUN/nutcracker.yml" -s "$STATS" -a 127.0.0.1 -o "$RUN/nutcracker.log" >/dev/null 2>&1 &
  echo $! > "$RUN/nutcracker.pid"
}

stop() {
  local pidfile pid
  # Sentinels first: no failover (nor reconfig.sh restarting nutcracker) while the rest stops
  for pidfile in "$RUN"/sentinel-*.pid "$RUN"/nutcracker.pid "$RUN"/ledis-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pidfile"
  done
  echo "cluster stopped (data kept in $RUN; rm -rf it for a fresh start)"
}

status() {
  for n in 1 2 3; do
    echo "g$n: $(redis-cli -p $((BASE + 101)) sentinel get-master-addr-by-name g$n | paste -sd:)"
    for port in $((BASE + n)) $((BASE + 10 + n)); do
      echo "  $port: $(redis-cli -p "$port" role 2>/dev/null | head -1 || echo down)"
    done
  done
  echo "proxy $PROXY: $(redis-cli -p "$PROXY" ping 2>/dev/null || echo down)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart-proxy) [ ! -f "$RUN/nutcracker.pid" ] || kill "$(cat "$RUN/nutcracker.pid")" || true
                 sleep 0.5; start_proxy ;;
  *) echo "usage: $0 start|stop|status|restart-proxy" >&2; exit 2 ;;
esac
