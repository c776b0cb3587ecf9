#!/usr/bin/env bash
# The group proxy benchmark of issue 8 (about 5 minutes on 2 cores), side by side in one run, with
# per-process CPU per response: (a) group requests through the Coterie proxy to 5 servers against
# (b) the same servers reached by the client's own multicast; (c) the same group request every time
# answered from the cache of a proxy with `members` (5 entries, no multicast: checked on its
# /metrics) against the same request forwarded by the proxy without a cache. Everything runs in
# a private network namespace of its own (a user and network namespace with only lo, multicast
# routed to it), so that no multicast leaves it; the driver also refuses to start outside one (MulticastGuard).
# bench/group-proxy-run.sh                               full run, report in bench/results/last-group-proxy-run.txt
# bench/group-proxy-run.sh --warmup 3 --window 2 --windows 1   a smoke check (numbers meaningless)
# COTERIE_PROXY_BENCH_JVM="-XX:StartFlightRecording=filename=/tmp/{name}.jfr,settings=profile" bench/group-proxy-run.sh ...
#                                                        a recording of each proxy ({name}: coterie-group, coterie-group-cache)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(cd "$here" && mvn -B -q -DskipTests -pl bench -am package) >&2
mkdir -p "$here/bench/results"
cd "$here"
args=""
for a in "$@"; do args="$args '${a//\'/\'\\\'\'}'"; done
exec unshare --user --map-root-user --net sh -c "ip link set lo up && ip link set lo multicast on \
  && ip route add 224.0.0.0/4 dev lo \
  && exec java -cp 'bench/target/classes:bench/target/lib/*' dev.coterie.bench.GroupProxyBench \
     --out bench/results/last-group-proxy-run.txt $args"
