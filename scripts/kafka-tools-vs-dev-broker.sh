#!/usr/bin/env bash
# scripts/kafka-tools-vs-dev-broker.sh — run Apache Kafka's own command-line
# tools (the classes behind kafka-topics.sh, kafka-configs.sh and the console
# producer and consumer, from Maven Central through scripts/kafka.sh libs)
# against `msiguard dev-broker`, and fail if any of them fails. No Kafka broker
# is started: only the tools' jars are used.
#
# Needs java (17+) and mvn the first time (the jars are cached), and go.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
libs=$("$here/kafka.sh" libs)
work=$(mktemp -d)
bin=$work/msiguard
(cd "$here/.." && go build -o "$bin" ./cmd/msiguard)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
addr=127.0.0.1:$port
"$bin" dev-broker --listen "$addr" >"$work/dev-broker.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

tool() { echo "+ $*"; { timeout 120 java -cp "$libs/*" "$@" 2>&1 || echo "Error: exit status $?"; } | { grep -v '^\s*at ' || true; } | tee -a "$work/tools.log"; }
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --list
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --create --topic t1 --partitions 2 --replication-factor 1
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --create --topic t2 --partitions 2 --config cleanup.policy=compact
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --describe --topic sysmon,t2
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --alter --topic t1 --partitions 4
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --delete --topic t1
tool kafka.admin.ConfigCommand --bootstrap-server "$addr" --describe --entity-type topics --entity-name msiguard.alerts
printf 'one\ntwo\n' | tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$addr" --topic t2
tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$addr" --topic t2 --from-beginning --max-messages 2
if grep -E 'Exception|^Error' "$work/tools.log"; then
  echo "kafka-tools-vs-dev-broker: a tool failed against msiguard dev-broker" >&2
  exit 1
fi
echo "kafka-tools-vs-dev-broker: every tool worked against msiguard dev-broker"
