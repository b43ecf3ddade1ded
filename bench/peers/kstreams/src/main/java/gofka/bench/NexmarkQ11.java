package gofka.bench;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.state.SessionStore;

/**
 * Nexmark q11, user sessions: each bidder's bid count per session (10 s of
 * inactivity ends one), one final row per session. The peer of
 * examples/nexmark/queries.Q11. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in → filter(bid or end mark) → selectKey(bidder; mark: -1) → groupByKey (repartition)
 *   → session windows (gap 10 s) → count → suppress(untilWindowCloses) → drop key -1 → row → --out
 * </pre>
 *
 * <p>Kafka Streams merges two records of a key no more than the gap apart (the
 * gap itself included), as Flink's session windows do; a session's window ends
 * at its last bid, so the row's endtime is that + the gap. The grace matches the
 * suite's watermark (4 s behind the largest event time): Flink drops a bid whose
 * own session [t, t + gap) the watermark has passed (t + gap − 1 ≤ max − 4000);
 * Kafka Streams drops a session ending at t when t &lt; stream time − grace, the
 * same bids for grace = gap + 3998 ms.
 */
public final class NexmarkQ11 {
  private NexmarkQ11() {}

  static final long GAP_MS = 10_000;

  /** A row of q11. */
  public static final class Row {
    public long bidder;
    public long bid_count;
    public long starttime;
    public long endtime;

    public Row() {}

    Row(long bidder, long count, long start, long last) {
      this.bidder = bidder;
      this.bid_count = count;
      this.starttime = start;
      this.endtime = last + GAP_MS;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    NexmarkEvent.source(b, flags)
        .filter((k, e) -> e.isBid() || e.isEnd())
        .selectKey((k, e) -> e.isBid() ? e.bidder : NexmarkEvent.END_KEY)
        .groupByKey(Grouped.with("q11-by-bidder", Serdes.Long(), NexmarkEvent.SERDE))
        .windowedBy(
            SessionWindows.ofInactivityGapAndGrace(
                Duration.ofMillis(GAP_MS), Duration.ofMillis(GAP_MS + 3998)))
        .count(
            Materialized.<Long, Long, SessionStore<Bytes, byte[]>>as("q11-sessions")
                .withKeySerde(Serdes.Long())
                .withValueSerde(Serdes.Long()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .filter((w, n) -> n != null && w.key() != NexmarkEvent.END_KEY)
        .map(
            (w, n) ->
                KeyValue.pair(
                    w.key(), new Row(w.key(), n, w.window().start(), w.window().end())))
        .to(Peer.need(flags, "out"), Produced.with(Serdes.Long(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q11", args, NexmarkQ11::topology);
  }
}
