package msiguard.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The seed rule (Splunk "Suspicious Parent Process for msiexec.exe") over flat Sysmon JSON records
 * (NXLog/OTRF/Sentinel shape), written the way a Kafka Streams user would: filter, re-key by host
 * (repartition), 1-second tumbling event-time windows with 2 s grace, per-field sorted distinct
 * values, suppress until the window closes, JSON to the alerts topic.
 *
 * <p>Usage: StreamsPeer BROKERS INPUT_TOPIC ALERTS_TOPIC APPLICATION_ID [THREADS [GRACE_MS]]
 *
 * <p>The repartition topic is APPLICATION_ID-by-host-repartition. Suppress only emits a window once
 * stream time passes its end plus grace, so at the end of the input the benchmark harness writes
 * one record keyed {@value #FLUSH_KEY} with a late timestamp to every partition of that topic (after
 * the peer has committed all its input, so the flush comes after every data record); the flush
 * windows themselves are never output.
 */
public final class StreamsPeer {
  static final String FLUSH_KEY = "__bench_flush__";
  static final ObjectMapper JSON = new ObjectMapper();

  // Output fields (CIM name, Sysmon source, basename?) in the order msiguard's seed rule lists them.
  static final String[][] FIELDS = {
    {"user", "User", ""},
    {"process", "CommandLine", ""},
    {"process_current_directory", "CurrentDirectory", ""},
    {"process_exec", "Image", "b"},
    {"process_guid", "ProcessGuid", ""},
    {"process_hash", "Hashes", ""},
    {"process_id", "ProcessId", ""},
    {"process_integrity_level", "IntegrityLevel", ""},
    {"process_name", "Image", "b"},
    {"process_path", "Image", ""},
    {"parent_process_exec", "ParentImage", "b"},
    {"parent_process_guid", "ParentProcessGuid", ""},
    {"parent_process_id", "ParentProcessId", ""},
    {"parent_process_name", "ParentImage", "b"},
    {"parent_process_path", "ParentImage", ""},
  };

  static final Pattern PARENT =
      Pattern.compile(
          "(?i)(spoolsv|powershell|pwsh|cmd|svchost|winlogon|taskhost|wininit)\\.exe");
  static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

  // Splunk's default major and minor breakers (segmenters.conf).
  static final boolean[] BREAKER = new boolean[128];

  static {
    for (char c : "[]<>(){}|!;,'\"*\n\r \t&?+/:=@.-$#%\\_".toCharArray()) {
      BREAKER[c] = true;
    }
  }

  static boolean isBreaker(char c) {
    return c < 128 && BREAKER[c];
  }

  /** TERM(msiexec) on _raw: the token in any (ASCII) case, bounded by a breaker or an edge. */
  static boolean hasToken(String s, String lowerTerm) {
    int n = lowerTerm.length();
    for (int i = 0; i + n <= s.length(); i++) {
      int j = 0;
      while (j < n) {
        char c = s.charAt(i + j);
        if (c >= 'A' && c <= 'Z') {
          c = (char) (c + 32);
        }
        if (c != lowerTerm.charAt(j)) {
          break;
        }
        j++;
      }
      if (j == n
          && (i == 0 || isBreaker(s.charAt(i - 1)))
          && (i + n == s.length() || isBreaker(s.charAt(i + n)))) {
        return true;
      }
    }
    return false;
  }

  static boolean isWord(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
  }

  /**
   * The Splunk Sysmon add-on's basename: replace(v, "(.*\\)(?=.*(\.\w*)$|(\w+)$)", ""). Values with
   * newlines are not handled line by line (the generator never makes them).
   */
  static String basename(String s) {
    for (int i = s.length() - 1; i >= 0; i--) {
      if (s.charAt(i) == '\\') {
        String rest = s.substring(i + 1);
        if (endsWithExtension(rest) || allWord(rest)) {
          return rest;
        }
      }
    }
    return s;
  }

  static boolean endsWithExtension(String s) {
    for (int i = s.length() - 1; i >= 0; i--) {
      char c = s.charAt(i);
      if (c == '.') {
        return true;
      }
      if (!isWord(c)) {
        return false;
      }
    }
    return false;
  }

  static boolean allWord(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isWord(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  static String text(JsonNode o, String name) {
    JsonNode v = o.get(name);
    if (v == null || v.isNull() || v.isContainerNode()) {
      return "";
    }
    return v.asText();
  }

  static boolean containsSysmon(String s) {
    return s.toLowerCase(java.util.Locale.ROOT).contains("sysmon");
  }

  /** Filters, evaluates and re-keys: forwards (host, match JSON) stamped with the event time. */
  static final class Rule implements Processor<String, String, String, String> {
    private ProcessorContext<String, String> ctx;

    @Override
    public void init(ProcessorContext<String, String> context) {
      this.ctx = context;
    }

    @Override
    public void process(Record<String, String> rec) {
      String raw = rec.value();
      if (raw == null || !hasToken(raw, "msiexec")) {
        return; // the cheap raw-text test first, as msiguard's prefilter does
      }
      JsonNode o;
      try {
        o = JSON.readTree(raw);
      } catch (IOException e) {
        return; // msiguard sends these to its DLQ; the peer drops them
      }
      if (o == null || !o.isObject() || !o.has("EventID")) {
        return;
      }
      String channel = text(o, "Channel");
      String provider = text(o, "SourceName");
      if (provider.isEmpty()) {
        provider = text(o, "Provider");
      }
      if ((!channel.isEmpty() || !provider.isEmpty())
          && !containsSysmon(channel)
          && !containsSysmon(provider)) {
        return;
      }
      if (!text(o, "EventID").equals("1")) {
        return;
      }
      String parent = text(o, "ParentImage");
      if (parent.isEmpty() || !PARENT.matcher(basename(parent)).find()) {
        return;
      }
      String host = text(o, "Computer");
      if (host.isEmpty()) {
        host = text(o, "Hostname");
      }
      if (host.isBlank()) {
        return;
      }
      long t;
      try {
        t =
            LocalDateTime.parse(text(o, "UtcTime"), UTC_TIME)
                .toInstant(ZoneOffset.UTC)
                .toEpochMilli();
      } catch (DateTimeParseException e) {
        return;
      }
      ObjectNode m = JSON.createObjectNode();
      for (String[] f : FIELDS) {
        String v = text(o, f[1]);
        if (!f[2].isEmpty()) {
          v = basename(v);
        }
        if (!v.isEmpty()) {
          m.put(f[0], v);
        }
      }
      ctx.forward(rec.withKey(host).withValue(m.toString()).withTimestamp(t));
    }
  }

  /** The aggregate of one (host, second): event count and each field's sorted distinct values. */
  public static final class Agg {
    public long n;
    public TreeMap<String, TreeSet<String>> f = new TreeMap<>();

    Agg add(String matchJson) {
      n++;
      try {
        JsonNode m = JSON.readTree(matchJson);
        var it = m.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          f.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(e.getValue().asText());
        }
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      return this;
    }
  }

  static <T> Serde<T> jsonSerde(Class<T> cls) {
    Serializer<T> ser =
        (topic, v) -> {
          try {
            return v == null ? null : JSON.writeValueAsBytes(v);
          } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
          }
        };
    Deserializer<T> de =
        (topic, b) -> {
          try {
            return b == null ? null : JSON.readValue(b, cls);
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        };
    return Serdes.serdeFrom(ser, de);
  }

  static final AtomicBoolean FIRST = new AtomicBoolean();

  /** Prints when the first input record reaches the topology, for the harness's clock. */
  static void noteFirstRecord() {
    if (FIRST.compareAndSet(false, true)) {
      Instant t = Instant.now();
      System.out.println("threeway first-record " + (t.getEpochSecond() * 1_000_000_000L + t.getNano()));
      System.out.flush();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println(
          "usage: StreamsPeer BROKERS INPUT_TOPIC ALERTS_TOPIC APPLICATION_ID [THREADS [GRACE_MS]]");
      System.exit(2);
    }
    String brokers = args[0], input = args[1], alerts = args[2], appId = args[3];
    int threads = args.length > 4 ? Integer.parseInt(args[4]) : 2;
    // Grace in ms. Kafka Streams' stream time is per task (repartition partition), not per host:
    // input partitions consumed at different speeds skew event time in a repartition partition
    // by more than 2 s, and records behind stream time - grace are dropped. The harness therefore
    // passes a grace that covers the skew (10 min, msiguard's --retain).
    long graceMs = args.length > 5 ? Long.parseLong(args[5]) : 2000;

    StreamsBuilder b = new StreamsBuilder();
    b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .peek((k, v) -> noteFirstRecord())
        .process(Rule::new)
        .repartition(
            Repartitioned.<String, String>as("by-host")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.String()))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(1), Duration.ofMillis(graceMs)))
        .aggregate(
            Agg::new,
            (host, match, agg) -> agg.add(match),
            Materialized.with(Serdes.String(), jsonSerde(Agg.class)))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .filter((w, agg) -> !w.key().equals(FLUSH_KEY))
        .map(
            (w, agg) -> {
              ObjectNode a = JSON.createObjectNode();
              a.put("host", w.key());
              a.put("_time", w.window().start() / 1000);
              a.put("event_count", agg.n);
              ObjectNode fs = a.putObject("fields");
              agg.f.forEach(
                  (k, vs) -> {
                    ArrayNode arr = fs.putArray(k);
                    vs.forEach(arr::add);
                  });
              return KeyValue.pair(w.key(), a.toString());
            })
        .to(alerts, Produced.with(Serdes.String(), Serdes.String()));

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000); // like msiguard and the bare loop
    p.put(
        StreamsConfig.STATE_DIR_CONFIG,
        System.getProperty("java.io.tmpdir") + "/msiguard-streams-peer/" + appId);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    KafkaStreams ks = new KafkaStreams(b.build(), p);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  ks.close(Duration.ofSeconds(30));
                  done.countDown();
                }));
    ks.setUncaughtExceptionHandler(
        e -> {
          e.printStackTrace();
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    ks.start();
    done.await();
  }
}
