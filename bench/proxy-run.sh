#!/usr/bin/env bash
# The proxy benchmarks of issue 7 in one run (about 8 minutes on 2 cores): Coterie, Californium
# proxy2 3.9.1 and libcoap 4.3.1 as forward proxies, each its own process, side by side; an
# OSCORE hop; deterministic cache hits; heap per cache entry and observer.
# bench/proxy-run.sh                  full run, report in bench/results/last-proxy-run.txt
# bench/proxy-run.sh --warmup 5 --window 3 --windows 1   a smoke check (numbers meaningless)
# bench/proxy-run.sh --only direct,coterie               some configurations only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/tests/scripts/ensure-libcoap.sh" >&2
(cd "$here" && mvn -B -q -DskipTests -pl bench -am package) >&2
# proxy2 needs californium-core 3.9.1: its own pom, not a module of the reactor, its own class path
(cd "$here/bench/proxy2" && mvn -B -q package) >&2
mkdir -p "$here/bench/results"
cd "$here"
exec java -cp "bench/target/classes:bench/target/lib/*" dev.coterie.bench.ProxyLoadDriver \
  --proxy2-cp "bench/proxy2/target/classes:bench/proxy2/target/lib/*" --out bench/results/last-proxy-run.txt "$@"
