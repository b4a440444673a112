#!/usr/bin/env bash
# bench/threeway.sh — the three-way benchmark (BENCHMARKS.md, section "Three-way"):
# a bare kafka-go consume loop, `msiguard run` and a Kafka Streams peer over the
# same topic on a real Apache Kafka broker, plus the check that the peer's alerts
# equal msiguard's.
#
#   bench/threeway.sh [threeway flags]      e.g. --records 1000000 --rounds 3
#
# Builds msiguard, the harness (bench/threeway) and the peer (bench/streams-peer,
# mvn -q package; Maven Central on the first build), starts a broker with
# scripts/kafka.sh unless KAFKA_BROKERS is set, runs the harness, and stops the
# broker it started. Build outputs go to bench/.build and bench/streams-peer/target.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=$root/bench/.build
mkdir -p "$out"
echo "threeway.sh: building" >&2
go build -o "$out/msiguard" ./cmd/msiguard
go build -o "$out/threeway" ./bench/threeway
(cd bench/streams-peer && mvn -q package)

if [ -z "${KAFKA_BROKERS:-}" ]; then
  KAFKA_BROKERS=$(scripts/kafka.sh start)
  trap 'scripts/kafka.sh stop' EXIT
fi
"$out/threeway" --brokers "$KAFKA_BROKERS" --msiguard "$out/msiguard" \
  --peer-classpath "$root/bench/streams-peer/target/classes:$root/bench/streams-peer/target/lib/*" "$@"
