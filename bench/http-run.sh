#!/usr/bin/env bash
# The HTTP front end benchmark of issue 8 (about 3 minutes on 2 cores): HTTP GET through the
# Coterie proxy's HTTP-to-CoAP front end (64 keep-alive connections, each a closed loop) against
# CoAP NON GET through the same proxy process (64 outstanding, the reference), to one Californium
# origin answering Max-Age 0 (every request forwarded: checked per window on the origin's and the
# proxy's counts); responses/s, ratio and proxy CPU per response, medians of alternating windows.
# bench/http-run.sh                  full run, report in bench/results/last-http-run.txt and
#                                    bench/results/<date>-issue-8-http-front-end.txt
# bench/http-run.sh --warmup 5 --window 3 --windows 2   a smoke check (numbers meaningless; last-http-run.txt only)
# bench/http-run.sh --connections 16                    fewer HTTP connections (last-http-run.txt only)
# COTERIE_PROXY_BENCH_JVM="-XX:StartFlightRecording=filename=/tmp/{name}.jfr,settings=profile" bench/http-run.sh ...
#                                    a recording of the proxy ({name}: coterie-http)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(cd "$here" && mvn -B -q -DskipTests -pl bench -am package) >&2
mkdir -p "$here/bench/results"
cd "$here"
java -cp "bench/target/classes:bench/target/lib/*" dev.coterie.bench.HttpFrontEndBench \
  --out bench/results/last-http-run.txt "$@"
if [ $# -eq 0 ]; then
  cp bench/results/last-http-run.txt "bench/results/$(date +%F)-issue-8-http-front-end.txt"
fi
