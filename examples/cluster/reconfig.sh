#!/usr/bin/env bash
# Sentinel's client-reconfig-script (examples/cluster): called by every Sentinel after a
# failover with <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>.
# Points the group's line of nutcracker.yml at the new master and restarts nutcracker (it
# cannot reload its config). Idempotent: the three Sentinels may all call it.
set -eu
RUN="@DIR@"
name=$1 to="$6:$7"
exec 9>"$RUN/reconfig.lock"
flock 9
conf="$RUN/nutcracker.yml"
grep -q -- "- $to:1 $name\$" "$conf" && exit 0
sed -i -E "s|^( *- )[0-9.]+:[0-9]+(:1 $name)\$|\1$to\2|" "$conf"
echo "$(date -u +%FT%TZ) $name -> $to" >> "$RUN/reconfig.log"
if [ -f "$RUN/nutcracker.pid" ]; then
  pid=$(cat "$RUN/nutcracker.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
nutcracker -c "$conf" -s "@STATS@" -a 127.0.0.1 -o "$RUN/nutcracker.log" >/dev/null 2>&1 &
echo $! > "$RUN/nutcracker.pid"
exit 0
