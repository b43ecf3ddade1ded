package gofka.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Nexmark q5, hot items: per hopping window of 10 s every 2 s, the auctions
 * with the most bids (every tie). The peer of examples/nexmark/queries.Q5.
 * Flags: those of {@link Peer}.
 *
 * <pre>
 * --in → filter(bid or end mark) → map(auction; mark: -1) → groupByKey (repartition)
 *   → hopping windows 10 s / 2 s, grace 3999 ms → count → suppress(untilWindowCloses)
 *   → (window start, auction count) stamped at the window's last ms → groupByKey (repartition)
 *   → tumbling 2 s, grace 10 s → aggregate(top count, its auctions) → suppress(untilWindowCloses)
 *   → rows (auction -1 dropped) → --out
 * </pre>
 *
 * <p>Grace: Flink's watermark (4 s behind the largest event time) closes a
 * window once its last millisecond is at or before it, end − 1 ≤ max − 4000;
 * Kafka Streams drops a record for a window when end ≤ stream time − grace, the
 * same windows for grace = 3999 ms.
 */
public final class NexmarkQ5 {
  private NexmarkQ5() {}

  static final long SIZE_MS = 10_000;
  static final long SLIDE_MS = 2_000;

  /** One auction's bid count in one window. */
  public static final class AuctionCount {
    public long auction;
    public long num;

    public AuctionCount() {}

    AuctionCount(long auction, long num) {
      this.auction = auction;
      this.num = num;
    }
  }

  /** The top count of one window and the auctions that have it. */
  public static final class Top {
    public long num;
    public List<Long> auctions = new ArrayList<>();

    Top add(AuctionCount c) {
      if (c.num > num) {
        num = c.num;
        auctions.clear();
        auctions.add(c.auction);
      } else if (c.num == num) {
        auctions.add(c.auction);
      }
      return this;
    }
  }

  /** A row of q5. */
  public static final class Row {
    public long auction;
    public long num;

    public Row() {}

    Row(long auction, long num) {
      this.auction = auction;
      this.num = num;
    }
  }

  /**
   * Keys a window's final count by the window's start and stamps it with the
   * window's last millisecond, so that one window's counts meet in one 2 s
   * tumbling window of the next step.
   */
  static final class AtWindowEnd implements Processor<Windowed<Long>, Long, Long, AuctionCount> {
    private ProcessorContext<Long, AuctionCount> ctx;

    @Override
    public void init(ProcessorContext<Long, AuctionCount> ctx) {
      this.ctx = ctx;
    }

    @Override
    public void process(Record<Windowed<Long>, Long> r) {
      long start = r.key().window().start();
      ctx.forward(
          new Record<>(start, new AuctionCount(r.key().key(), r.value()), start + SIZE_MS - 1));
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    NexmarkEvent.source(b, flags)
        .filter((k, e) -> e.isBid() || e.isEnd())
        .map((k, e) -> KeyValue.pair(e.isBid() ? e.auction : NexmarkEvent.END_KEY, e.dateTime))
        .groupByKey(Grouped.with("q5-by-auction", Serdes.Long(), Serdes.Long()))
        .windowedBy(
            TimeWindows.ofSizeAndGrace(Duration.ofMillis(SIZE_MS), Duration.ofMillis(3999))
                .advanceBy(Duration.ofMillis(SLIDE_MS)))
        .count(
            Materialized.<Long, Long, WindowStore<Bytes, byte[]>>as("q5-counts")
                .withKeySerde(Serdes.Long())
                .withValueSerde(Serdes.Long()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .filter((w, n) -> n != null)
        .process(AtWindowEnd::new)
        .groupByKey(
            Grouped.with("q5-by-window", Serdes.Long(), Peer.jsonSerde(AuctionCount.class)))
        .windowedBy(
            TimeWindows.ofSizeAndGrace(Duration.ofMillis(SLIDE_MS), Duration.ofMillis(SIZE_MS)))
        .aggregate(
            Top::new,
            (start, c, t) -> t.add(c),
            Materialized.<Long, Top, WindowStore<Bytes, byte[]>>as("q5-top")
                .withKeySerde(Serdes.Long())
                .withValueSerde(Peer.jsonSerde(Top.class)))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .flatMap(
            (w, t) -> {
              List<KeyValue<Long, Row>> rows = new ArrayList<>();
              if (t != null) {
                for (long a : t.auctions) {
                  if (a != NexmarkEvent.END_KEY) {
                    rows.add(KeyValue.pair(a, new Row(a, t.num)));
                  }
                }
              }
              return rows;
            })
        .to(Peer.need(flags, "out"), Produced.with(Serdes.Long(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q5", args, NexmarkQ5::topology);
  }
}
