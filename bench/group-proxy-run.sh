#!/usr/bin/env bash
# The group proxy benchmark of issue 8 (about 5 minutes on 2 cores), side by side in one run, with
# per-process CPU per response: (a) group requests through the Coterie proxy to 5 servers against
# (b) the same servers reached by the client's own multicast; (c) the same group request every time
# answered from the cache of a proxy with `members` (5 entries, no multicast: checked on its
# /metrics) against the same request forwarded by the proxy without a cache. Everything runs in
# a private network namespace of its own (bench/namespace-run.sh: a user and network namespace
# with only lo, multicast routed to it), so that no multicast leaves it; the driver also refuses
# to start outside one (MulticastGuard).
# bench/group-proxy-run.sh                               full run, report in bench/results/last-group-proxy-run.txt
# bench/group-proxy-run.sh --warmup 3 --window 2 --windows 1   a smoke check (numbers meaningless)
# COTERIE_PROXY_BENCH_JVM="-XX:StartFlightRecording=filename=/tmp/{name}.jfr,settings=profile" bench/group-proxy-run.sh ...
#                                                        a recording of each proxy ({name}: coterie-group, coterie-group-cache)
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/namespace-run.sh" dev.coterie.bench.GroupProxyBench \
  bench/results/last-group-proxy-run.txt "$@"
