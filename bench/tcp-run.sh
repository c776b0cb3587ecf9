#!/usr/bin/env bash
# The CoAP over TCP/TLS benchmark of issue 10 (about 3 minutes on 2 cores), side by side in one run,
# all on loopback, the same bounded closed-loop driver (64 GET / outstanding, one connection) for
# every variant: (1) coap+tcp against Coterie over UDP (plain and OSCORE), (2) OSCORE over TLS against
# plain CoAP over TLS, (3) Coterie over coap+tcp against libcoap's coap-server over coap+tcp
# (tests/scripts/ensure-libcoap.sh installs libcoap3-bin if missing); medians of 5 alternating rounds.
# raw-udp/raw-tcp/raw-libcoap-tcp: the same servers under a lean one-thread driver (RawLoad), to
# tell the servers' cost from the Californium client driver's.
# bench/tcp-run.sh                      full run, report in bench/results/last-tcp-run.txt and
#                                       bench/results/<date>-issue-10-tcp.txt
# bench/tcp-run.sh --requests 2000 --warmup 1 --rounds 1   a smoke check (numbers meaningless; last-tcp-run.txt only)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
libcoap=$(bash "$here/tests/scripts/ensure-libcoap.sh")
server=$(printf '%s\n' "$libcoap" | sed -n 's/^COAP_SERVER=//p')
(cd "$here" && mvn -B -q -o -DskipTests -Djacoco.skip=true -pl bench -am package) >&2
mkdir -p "$here/bench/results"
cd "$here"
java -cp "bench/target/classes:bench/target/lib/*" dev.coterie.bench.TcpLoad --coap-server "$server" \
  --out bench/results/last-tcp-run.txt "$@"
if [ $# -eq 0 ]; then
  cp bench/results/last-tcp-run.txt "bench/results/$(date +%F)-issue-10-tcp.txt"
fi
