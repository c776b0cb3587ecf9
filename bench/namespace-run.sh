#!/usr/bin/env bash
# Builds the bench module and runs one of its drivers inside a private network namespace of its
# own (a user and network namespace with only lo, 224.0.0.0/4 routed to it), so that no multicast
# leaves it; the drivers also refuse to start outside one (MulticastGuard).
# bench/namespace-run.sh MAIN-CLASS REPORT-FILE [DRIVER ARGUMENTS...]   (--out REPORT-FILE is passed first)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
main="$1"
report="$2"
shift 2
(cd "$here" && mvn -B -q -DskipTests -pl bench -am package) >&2
mkdir -p "$here/bench/results"
cd "$here"
args=""
for a in "$@"; do args="$args '${a//\'/\'\\\'\'}'"; done
exec unshare --user --map-root-user --net sh -c "ip link set lo up && ip link set lo multicast on \
  && ip route add 224.0.0.0/4 dev lo \
  && exec java -cp 'bench/target/classes:bench/target/lib/*' '$main' --out '$report' $args"
