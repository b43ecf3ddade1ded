package gofka.bench;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * A windowed count of page views written with the Kafka Streams DSL: the peer
 * of gofka's examples/pageviews in the windowed comparisons (test/e2e on the
 * real-Kafka tier, and the windowed benchmark).
 *
 * <pre>
 * page-views (key: page, value: anything; event time = the record's timestamp)
 *   → groupByKey → windowedBy(TimeWindows of --size-ms, advancing --advance-ms, grace --grace-ms;
 *                            with --sliding, SlidingWindows of time difference --size-ms;
 *                            with --session, SessionWindows of inactivity gap --size-ms)
 *   → count(store views-per-minute)
 *   → toStream → --out (every update)
 *   [→ suppress(untilWindowCloses) → toStream → --out-final (one final count per window), with --out-final]
 * </pre>
 *
 * <p>Keys are Windowed&lt;String&gt; in the time-windowed serde's bytes (the page's
 * UTF-8 bytes, then the window start as 8 bytes big-endian), values Long: the
 * bytes gofka's streams.Windowed[string] and int64 serdes write.
 *
 * <p>Flags: those of {@link Peer}, and --size-ms (default 60000), --advance-ms
 * (default: the size, a tumbling window), --grace-ms (default 10000),
 * --out-final (a topic for the suppressed final counts; default none),
 * --sliding (true: sliding windows, the peer of examples/slidingviews),
 * --session (true: session windows, keys in the session-windowed serde's bytes,
 * the peer of examples/sessions).
 */
public final class WindowedCount {
  private WindowedCount() {}

  static Topology topology(Map<String, String> flags) {
    String in = Peer.need(flags, "in");
    String out = Peer.need(flags, "out");
    String outFinal = flags.get("out-final");
    long size = Long.parseLong(flags.getOrDefault("size-ms", "60000"));
    long advance = Long.parseLong(flags.getOrDefault("advance-ms", Long.toString(size)));
    long grace = Long.parseLong(flags.getOrDefault("grace-ms", "10000"));

    boolean session = Boolean.parseBoolean(flags.getOrDefault("session", "false"));
    Serde<Windowed<String>> windowed =
        session
            ? WindowedSerdes.sessionWindowedSerdeFrom(String.class)
            : WindowedSerdes.timeWindowedSerdeFrom(String.class, size);
    boolean sliding = Boolean.parseBoolean(flags.getOrDefault("sliding", "false"));
    StreamsBuilder b = new StreamsBuilder();
    var grouped =
        b.stream(in, Consumed.with(Serdes.String(), Serdes.ByteArray()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()));
    Materialized<String, Long, WindowStore<Bytes, byte[]>> store =
        Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("views-per-minute")
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.Long());
    KTable<Windowed<String>, Long> counts =
        session
            ? grouped
                .windowedBy(
                    SessionWindows.ofInactivityGapAndGrace(
                        Duration.ofMillis(size), Duration.ofMillis(grace)))
                .count(
                    Materialized.<String, Long, SessionStore<Bytes, byte[]>>as("views-per-minute")
                        .withKeySerde(Serdes.String())
                        .withValueSerde(Serdes.Long()))
            : sliding
            ? grouped
                .windowedBy(
                    SlidingWindows.ofTimeDifferenceAndGrace(
                        Duration.ofMillis(size), Duration.ofMillis(grace)))
                .count(store)
            : grouped
                .windowedBy(
                    TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace))
                        .advanceBy(Duration.ofMillis(advance)))
                .count(store);
    counts.toStream().to(out, Produced.with(windowed, Serdes.Long()));
    if (outFinal != null) {
      counts
          .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
          .toStream()
          .to(outFinal, Produced.with(windowed, Serdes.Long()));
    }
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("windowed-count", args, WindowedCount::topology);
  }
}
