package gofka.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * What every Kafka Streams peer program shares: its flags and how it runs.
 *
 * <p>Flags (all "--name value"): --bootstrap, --app-id, --in, --out, --state-dir,
 * --commit-ms (default 5000, gofka's default commit interval), --cache-bytes
 * (statestore.cache.max.bytes; default: Kafka Streams' own, 10 MiB; 0 forwards
 * every update, as gofka does), --threads (num.stream.threads, default 1),
 * --guarantee (processing.guarantee: at_least_once, the default, or
 * exactly_once_v2), --join-emit-interval-ms (how often, in wall-clock time, a
 * left or outer stream-stream join looks for unjoined records whose window has
 * closed; Kafka Streams' internal default is 1000, so a record that closes a
 * window within a second of the last look emits nothing until the next one; 0
 * looks at every record, as gofka does), --leave-group (true: the consumers are
 * static members of the group, which the client removes from it when it closes;
 * Kafka Streams' dynamic members never leave on close, so the group stays busy
 * until their session times out, 45 s, and cannot be deleted meanwhile). A
 * program runs until SIGTERM, then closes cleanly; it exits 1 if the streams
 * client fails, 2 on bad flags.
 */
final class Peer {
  private Peer() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A JSON serde of type, with Jackson (nulls stay null). */
  static <T> Serde<T> jsonSerde(Class<T> type) {
    Serializer<T> ser =
        (topic, v) -> {
          if (v == null) {
            return null;
          }
          try {
            return JSON.writeValueAsBytes(v);
          } catch (IOException e) {
            throw new SerializationException("encode " + type.getSimpleName() + " for " + topic, e);
          }
        };
    Deserializer<T> de =
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.readValue(data, type);
          } catch (IOException e) {
            throw new SerializationException("decode " + type.getSimpleName() + " from " + topic, e);
          }
        };
    return Serdes.serdeFrom(ser, de);
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

  /** The streams configuration the shared flags give. */
  static Properties props(Map<String, String> flags) {
    Properties props = new Properties();
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
    if (flags.containsKey("join-emit-interval-ms")) {
      props.put(
          StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_OUTER_JOIN_SPURIOUS_RESULTS_FIX,
          Long.parseLong(flags.get("join-emit-interval-ms")));
    }
    if (Boolean.parseBoolean(flags.getOrDefault("leave-group", "false"))) {
      props.put(
          StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
          need(flags, "app-id") + "-peer");
    }
    // One broker: internal topics with one replica.
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
    return props;
  }

  /** A program's topology, made from its flags. */
  interface TopologyFactory {
    Topology make(Map<String, String> flags);
  }

  /** Runs the topology the flags describe until SIGTERM, then exits. */
  static void run(String name, String[] args, TopologyFactory factory) throws InterruptedException {
    Properties props;
    Topology topology;
    KafkaStreams.CloseOptions closing = new KafkaStreams.CloseOptions().timeout(Duration.ofSeconds(30));
    try {
      Map<String, String> flags = parseFlags(args);
      props = props(flags);
      topology = factory.make(flags);
      closing.leaveGroup(Boolean.parseBoolean(flags.getOrDefault("leave-group", "false")));
    } catch (IllegalArgumentException e) {
      System.err.println("kstreams " + name + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    int[] exit = {0};
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("kstreams " + name + ": stream thread failed: " + e);
          exit[0] = 1;
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    long started = System.nanoTime();
    streams.setStateListener(
        (now, before) -> {
          // One line per state change, with the time since start: shows where
          // start-up time goes (JVM, group join, restoration).
          System.err.printf(
              "kstreams %s: %s -> %s after %d ms%n",
              name, before, now, (System.nanoTime() - started) / 1_000_000);
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
                  streams.close(closing);
                  stopped.countDown();
                }));
    streams.start();
    stopped.await();
    streams.close(closing);
    System.exit(exit[0]);
  }
}
