#!/usr/bin/env bash
# The group observation benchmark of issue 9 (about two minutes on 2 cores), side by side in one
# run: one change fanned out by the Coterie proxy (group_observations) to N = 1000 observers from
# the server's one multicast notification, against the server itself notifying 1000 traditional
# observers by unicast; the datagrams the server sent per change on both sides; heap per observer
# in the proxy. Everything runs in a private network namespace of its own (bench/namespace-run.sh:
# only lo, multicast routed to it), so that no multicast leaves it; the driver also refuses to
# start outside one (MulticastGuard).
# bench/group-observation-run.sh                          full run, report in bench/results/last-group-observation-run.txt
# bench/group-observation-run.sh --warmup 3 --changes 3   a smoke check (numbers meaningless)
# options: --observers N --warmup N --changes N --sockets N --pause MS --histogram (see GroupObservationBench)
# COTERIE_PROXY_BENCH_JVM="-XX:StartFlightRecording=filename=/tmp/{name}.jfr,settings=profile" bench/group-observation-run.sh
#                                                         a recording of the proxy ({name}: coterie-gobs)
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/namespace-run.sh" dev.coterie.bench.GroupObservationBench \
  bench/results/last-group-observation-run.txt "$@"
