package gofka.bench;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Nexmark q8, monitor new users: the people who opened an auction in the 10 s
 * tumbling window they registered in. The peer of examples/nexmark/queries.Q8,
 * written the same way: both sides made final per window first (the SQL's two
 * GROUP BY subqueries), then a windowed join that pairs each window with its
 * neighbours, and a filter that keeps the same window. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in ─┬─ persons (and end marks) by id ─▶ tumbling 10 s ─▶ reduce(first name) ─▶ suppress ─▶ (id, row) ──┐
 *       └─ auctions (and end marks) by seller ─▶ tumbling 10 s ─▶ count ─▶ suppress ─▶ (seller, start) ───┴─
 *   join (10 s either way, grace 1 min) ─▶ same window, not an end mark ─▶ --out
 * </pre>
 *
 * <p>Grace 3999 ms closes the windows the suite's watermark (dateTime − 4 s) closes (see
 * {@link NexmarkQ5}). The end marks go into both windowed steps, under key -1, so that their
 * stream time closes the last windows; they join each other and are dropped before the sink.
 */
public final class NexmarkQ8 {
  private NexmarkQ8() {}

  static final Duration WINDOW = Duration.ofSeconds(10);
  static final Duration GRACE = Duration.ofMillis(3999);

  /** A row of q8: a person, and the start of the window they registered in. */
  public static final class Row {
    public long id;
    public String name;
    public long stime;

    public Row() {}

    Row(long id, String name, long stime) {
      this.id = id;
      this.name = name;
      this.stime = stime;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KStream<byte[], NexmarkEvent> events = NexmarkEvent.source(b, flags);
    KStream<Long, Row> persons =
        events
            .filter((k, e) -> "person".equals(e.type) || e.isEnd())
            .map(
                (k, e) ->
                    KeyValue.pair(e.isEnd() ? NexmarkEvent.END_KEY : e.id, e.isEnd() ? "" : e.name))
            .groupByKey(Grouped.with("q8-persons-by-id", Serdes.Long(), Serdes.String()))
            .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, GRACE))
            .reduce(
                (first, next) -> first,
                Materialized.<Long, String, WindowStore<Bytes, byte[]>>as("q8-persons")
                    .withKeySerde(Serdes.Long())
                    .withValueSerde(Serdes.String()))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .filter((w, name) -> name != null)
            .map(
                (w, name) ->
                    KeyValue.pair(w.key(), new Row(w.key(), name, w.window().start())));
    KStream<Long, Long> sellers =
        events
            .filter((k, e) -> "auction".equals(e.type) || e.isEnd())
            .map((k, e) -> KeyValue.pair(e.isEnd() ? NexmarkEvent.END_KEY : e.seller, 0L))
            .groupByKey(Grouped.with("q8-auctions-by-seller", Serdes.Long(), Serdes.Long()))
            .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, GRACE))
            .count(
                Materialized.<Long, Long, WindowStore<Bytes, byte[]>>as("q8-sellers")
                    .withKeySerde(Serdes.Long())
                    .withValueSerde(Serdes.Long()))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .filter((w, n) -> n != null)
            .map((w, n) -> KeyValue.pair(w.key(), w.window().start()));
    persons
        .join(
            sellers,
            (p, sellerStart) -> p.stime == sellerStart ? p : null,
            JoinWindows.ofTimeDifferenceAndGrace(WINDOW, Duration.ofMinutes(1)),
            StreamJoined.with(Serdes.Long(), Peer.jsonSerde(Row.class), Serdes.Long())
                .withName("q8-join")
                .withStoreName("q8-join"))
        .filter((id, row) -> row != null && id != NexmarkEvent.END_KEY)
        .to(Peer.need(flags, "out"), Produced.with(Serdes.Long(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q8", args, NexmarkQ8::topology);
  }
}
