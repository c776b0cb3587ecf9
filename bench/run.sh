#!/usr/bin/env bash
# Runs every benchmark beside its reference in one JMH invocation and prints medians and ratios.
# bench/run.sh          full run (about 10 minutes on 2 cores)
# bench/run.sh quick    short iterations, for a smoke check
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(cd "$here" && mvn -B -q -DskipTests -pl bench -am package) >&2
mkdir -p "$here/bench/results"
exec java -cp "$here/bench/target/classes:$here/bench/target/lib/*" dev.coterie.bench.BenchReport "$@" \
  | tee "$here/bench/results/last-run.txt"
