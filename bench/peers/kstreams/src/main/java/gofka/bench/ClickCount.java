package gofka.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Click-count written with the Kafka Streams DSL: the peer of gofka's
 * examples/clickcount in the end-to-end benchmark (bench/e2e).
 *
 * <pre>
 * user-clicks (key: click id string, value: JSON {"user","url","bot"})
 *   → filter(not a bot) → selectKey(user) → groupByKey (repartition topic
 *   &lt;app-id&gt;-click-counts-repartition) → count(RocksDB store click-counts,
 *   changelog &lt;app-id&gt;-click-counts-changelog) → toStream
 *   → user-click-counts (key: user string, value: Long, 8 bytes big-endian)
 * </pre>
 *
 * The output bytes are exactly gofka's: Serdes.String() is UTF-8 and
 * Serdes.Long() is the 8-byte big-endian encoding of gofka's IntSerde[int64].
 * The repartition topic carries the click as JSON, as the DSL needs a value
 * there (count ignores records with a null value).
 *
 * <p>Flags (all "--name value"): --bootstrap, --app-id, --in, --out, --state-dir,
 * --commit-ms (default 5000, gofka's default commit interval), --cache-bytes
 * (statestore.cache.max.bytes; default: Kafka Streams' own, 10 MiB; 0 forwards
 * every count update, as gofka does), --threads (num.stream.threads, default 1),
 * --guarantee (processing.guarantee: at_least_once, the default, or
 * exactly_once_v2; the exactly-once benchmark, bench/e2e -eos, runs both).
 * It runs until SIGTERM, then closes cleanly; it exits 1 if the streams client
 * fails.
 */
public final class ClickCount {
  private ClickCount() {}

  /** One click on a page: the JSON value of user-clicks. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Click {
    public String user;
    public String url;
    public boolean bot;
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The JSON serde of Click, with Jackson. */
  static Serde<Click> clickSerde() {
    Serializer<Click> ser =
        (topic, c) -> {
          if (c == null) {
            return null;
          }
          try {
            return JSON.writeValueAsBytes(c);
          } catch (IOException e) {
            throw new SerializationException("encode click for " + topic, e);
          }
        };
    Deserializer<Click> de =
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.readValue(data, Click.class);
          } catch (IOException e) {
            throw new SerializationException("decode click from " + topic, e);
          }
        };
    return Serdes.serdeFrom(ser, de);
  }

  /** The click-count topology from topic in to topic out. */
  static Topology topology(String in, String out) {
    Serde<Click> clicks = clickSerde();
    StreamsBuilder b = new StreamsBuilder();
    b.stream(in, Consumed.with(Serdes.String(), clicks))
        .filter((clickId, c) -> c != null && !c.bot)
        .selectKey((clickId, c) -> c.user)
        .groupByKey(Grouped.with("click-counts", Serdes.String(), clicks))
        .count(
            Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("click-counts")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()))
        .toStream()
        .to(out, Produced.with(Serdes.String(), Serdes.Long()));
    return b.build();
  }

  static Map<String, String> parseFlags(String[] args) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      }
      flags.put(args[i].substring(2), args[i + 1]);
    }
    return flags;
  }

  static String need(Map<String, String> flags, String name) {
    String v = flags.get(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("missing --" + name);
    }
    return v;
  }

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> flags;
    Properties props = new Properties();
    String in, out;
    try {
      flags = parseFlags(args);
      in = need(flags, "in");
      out = need(flags, "out");
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, need(flags, "app-id"));
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, need(flags, "bootstrap"));
      props.put(StreamsConfig.STATE_DIR_CONFIG, need(flags, "state-dir"));
      props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, flags.getOrDefault("commit-ms", "5000"));
      props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, flags.getOrDefault("threads", "1"));
      String guarantee = flags.getOrDefault("guarantee", StreamsConfig.AT_LEAST_ONCE);
      if (!guarantee.equals(StreamsConfig.AT_LEAST_ONCE)
          && !guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2)) {
        throw new IllegalArgumentException(
            "--guarantee must be at_least_once or exactly_once_v2, not " + guarantee);
      }
      props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
      if (flags.containsKey("cache-bytes")) {
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, flags.get("cache-bytes"));
      }
      // One broker: internal topics with one replica.
      props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
    } catch (IllegalArgumentException e) {
      System.err.println("kstreams click-count: " + e.getMessage());
      System.exit(2);
      return;
    }

    KafkaStreams streams = new KafkaStreams(topology(in, out), props);
    CountDownLatch stopped = new CountDownLatch(1);
    int[] exit = {0};
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("kstreams click-count: stream thread failed: " + e);
          exit[0] = 1;
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    long started = System.nanoTime();
    streams.setStateListener(
        (now, before) -> {
          // One line per state change, with the time since start: shows where
          // start-up time goes (JVM, group join, restoration).
          System.err.printf(
              "kstreams click-count: %s -> %s after %d ms%n",
              before, now, (System.nanoTime() - started) / 1_000_000);
          if (now == KafkaStreams.State.ERROR) {
            exit[0] = 1;
          }
          if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
            stopped.countDown();
          }
        });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close(Duration.ofSeconds(30));
                  stopped.countDown();
                }));
    streams.start();
    stopped.await();
    streams.close(Duration.ofSeconds(30));
    System.exit(exit[0]);
  }
}
