#!/usr/bin/env bash
# scripts/kafka.sh — a real, single-node Apache Kafka broker (KRaft, combined
# broker+controller) on 127.0.0.1 for msiguard's integration tests.
#
#   scripts/kafka.sh start    fetch the broker if needed, start it, print 127.0.0.1:PORT
#   scripts/kafka.sh stop     stop it (SIGTERM, then SIGKILL after a deadline)
#   scripts/kafka.sh status   say whether it runs; exit 0 if it does, 1 if not
#   scripts/kafka.sh addr     print 127.0.0.1:PORT of the running broker; exit 1 if none
#   scripts/kafka.sh libs     fetch the jars if needed and print their directory (for Kafka's own tools)
#
# Typical use:
#   scripts/kafka.sh start
#   KAFKA_BROKERS=$(scripts/kafka.sh addr) go test -race -count=1 ./internal/... ./stream/...
#   scripts/kafka.sh stop
#
# Needs java (17 or newer: Kafka 4 brokers need 17) and mvn. The broker comes
# from Maven Central: scripts/kafka/pom.xml names it; the first start copies
# it and its runtime jars into the cache (about 40 MB), later starts reuse it.
# Every start begins with empty storage, so topics from a previous run are gone.
#
# Environment (all optional):
#   MSIGUARD_KAFKA_HOME   cache root (default ~/.cache/msiguard-kafka); jars in <root>/<version>/libs
#   MSIGUARD_KAFKA_STATE  state dir: pid, addr, kafka.log, server.properties, data
#                         (default <root>/run)
#   KAFKA_NUM_PARTITIONS  num.partitions for auto-created topics (default 3)
#   KAFKA_HEAP            max heap (default 1g)
#   KAFKA_START_TIMEOUT   seconds to wait for the broker to serve metadata (default 120)
#   KAFKA_STOP_TIMEOUT    seconds to wait after SIGTERM before SIGKILL (default 30)
#   KAFKA_EXTRA_CONFIG    extra server.properties lines, newline-separated
#
# Output: only the address goes to stdout (start, addr); progress and errors go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom_src=$here/kafka/pom.xml
version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$pom_src" | head -n1)
[ -n "$version" ] || { echo "kafka.sh: no <kafka.version> in $pom_src" >&2; exit 2; }

root=${MSIGUARD_KAFKA_HOME:-$HOME/.cache/msiguard-kafka}
vdir=$root/$version
libs=$vdir/libs
state=${MSIGUARD_KAFKA_STATE:-$root/run}
pidfile=$state/pid
addrfile=$state/addr
log=$state/kafka.log
props=$state/server.properties

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# running prints the pid of our broker if it is alive. A pid file whose process
# is gone, or whose pid now belongs to something else, counts as not running.
running() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # /proc/PID/cmdline is NUL-separated; make sure it is our kafka.Kafka.
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $props" || return 1
  fi
  echo "$pid"
}

need_tools() {
  command -v java >/dev/null || die "java not found (Kafka $version needs Java 17+)"
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)
  case "$major" in
    1.*|9|1[0-6]) die "java $major found; Kafka $version brokers need Java 17+ (set JAVA_HOME/PATH)";;
  esac
}

# fetch puts the broker's jars into $libs unless the cache already holds them
# for this exact pom (its sha256 is recorded in libs/.complete).
fetch() {
  local sum; sum=$(sha256sum "$pom_src" | cut -d' ' -f1)
  if [ -f "$libs/.complete" ] && [ "$(cat "$libs/.complete")" = "$sum" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch Kafka $version into $libs"
  log "fetching Apache Kafka $version and its runtime jars with mvn into $libs (first run only)"
  mkdir -p "$vdir"
  cp "$pom_src" "$vdir/pom.xml"
  rm -rf "$libs.tmp"
  # The pom is copied out of the repo so that mvn writes nothing into the work tree.
  if ! (cd "$vdir" && mvn -B -q -f pom.xml dependency:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >"$vdir/mvn.log" 2>&1); then
    tail -n 40 "$vdir/mvn.log" >&2
    die "mvn could not fetch Kafka $version (full log: $vdir/mvn.log)"
  fi
  ls "$libs.tmp"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "mvn ran but $libs.tmp has no kafka_2.13-$version.jar"
  echo "$sum" >"$libs.tmp/.complete"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tail_log() {
  if [ -f "$log" ]; then
    log "last lines of $log:"
    tail -n 60 "$log" >&2
  fi
}

write_config() {
  local port=$1 cport=$2
  cat >"$props" <<EOF
# Written by scripts/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$state/data
auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=${KAFKA_NUM_PARTITIONS:-3}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
${KAFKA_EXTRA_CONFIG:-}
EOF
  cat >"$state/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
  sed 's/^rootLogger.level = INFO/rootLogger.level = WARN/' "$state/log4j2.properties" >"$state/tools-log4j2.properties"
  # Short client timeouts for the readiness check, so one attempt against a
  # broker still starting fails fast and the next one is tried.
  printf '%s\n' request.timeout.ms=5000 default.api.timeout.ms=8000 >"$state/check.properties"
}

# jvm_opts: -XX:TieredStopAtLevel=1 (C1 only) cuts JVM start-up on small CI
# machines; a test broker never runs long enough for C2 to pay off.
jvm_opts() {
  opts=(-Xmx"${KAFKA_HEAP:-1g}" -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$state/$1" -cp "$libs/*")
}

# tool runs a Kafka command-line class (StorageTool, TopicCommand) with a small
# heap and warnings-only logging.
tool() { local opts; jvm_opts tools-log4j2.properties; opts[0]=-Xmx256m; java "${opts[@]}" "$@"; }

start() {
  local pid
  if pid=$(running); then
    log "already running (pid $pid)"
    cat "$addrfile"
    return 0
  fi
  need_tools
  fetch
  mkdir -p "$state"
  rm -f "$pidfile" "$addrfile"
  rm -rf "$state/data"
  : >"$log"; : >"$state/check.log"

  local port cport cluster_id
  port=$(free_port)
  cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  write_config "$port" "$cport"
  # A Kafka cluster id is 16 random bytes, base64url without padding.
  # One that starts with '-' would read as an option to StorageTool: draw again.
  cluster_id=-
  while [ "${cluster_id#-}" != "$cluster_id" ]; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  done

  log "formatting storage (cluster id $cluster_id)"
  if ! tool kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" -c "$props" >>"$log" 2>&1; then
    tail_log; die "formatting KRaft storage failed"
  fi

  log "starting Kafka $version on 127.0.0.1:$port (controller 127.0.0.1:$cport), log $log"
  # setsid: the broker must outlive this script and not get the terminal's ^C.
  # The inner shell writes its own pid and execs java, so the pid file names
  # the JVM whether or not setsid had to fork.
  local opts; jvm_opts log4j2.properties
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" java "${opts[@]}" kafka.Kafka "$props" \
    </dev/null >>"$log" 2>&1 9>&- &
  local deadline=$(( SECONDS + ${KAFKA_START_TIMEOUT:-120} ))
  until [ -s "$pidfile" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "broker process did not start"
    sleep 0.05
  done
  pid=$(cat "$pidfile")

  while ! port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then tail_log; rm -f "$pidfile"; die "broker exited during start-up"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then tail_log; stop; die "broker did not open 127.0.0.1:$port within ${KAFKA_START_TIMEOUT:-120}s"; fi
    sleep 0.2
  done
  # The port can accept connections before the broker serves them: wait for
  # the server's own "started" line, then make sure a client gets metadata.
  until grep -q 'Kafka Server started' "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then tail_log; rm -f "$pidfile"; die "broker exited during start-up"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then tail_log; stop; die "broker did not finish start-up within ${KAFKA_START_TIMEOUT:-120}s"; fi
    sleep 0.2
  done
  until tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
          --command-config "$state/check.properties" --list >>"$state/check.log" 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then tail_log; rm -f "$pidfile"; die "broker exited during start-up"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then tail -n 20 "$state/check.log" >&2; tail_log; stop; die "broker did not serve metadata within ${KAFKA_START_TIMEOUT:-120}s"; fi
    sleep 0.5
  done
  echo "127.0.0.1:$port" >"$addrfile"
  log "ready (pid $pid)"
  cat "$addrfile"
}

stop() {
  local pid
  if ! pid=$(running); then
    rm -f "$pidfile" "$addrfile"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( SECONDS + ${KAFKA_STOP_TIMEOUT:-30} ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "still alive after ${KAFKA_STOP_TIMEOUT:-30}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile" "$addrfile"
  log "stopped"
}

status() {
  local pid
  if pid=$(running); then
    echo "running: pid $pid, $(cat "$addrfile" 2>/dev/null || echo 'not ready yet'), Kafka $version, log $log"
  else
    echo "not running"
    return 1
  fi
}

addr() {
  if running >/dev/null && [ -s "$addrfile" ]; then
    cat "$addrfile"
  else
    log "not running"
    return 1
  fi
}

# One start/stop at a time per state dir (CI and a developer's shell may race).
lock() {
  mkdir -p "$state"
  if command -v flock >/dev/null; then
    exec 9>"$state/.lock"
    flock -w 600 9 || die "could not lock $state/.lock"
  fi
}

case "${1:-}" in
  start) lock; start ;;
  stop) lock; stop ;;
  status) status ;;
  addr) addr ;;
  libs) need_tools; lock; fetch; echo "$libs" ;;
  *) echo "usage: $0 start|stop|status|addr|libs" >&2; exit 2 ;;
esac
