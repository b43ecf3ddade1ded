package gofka.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
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
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Nexmark q7, highest bid: per 10 s tumbling window, every bid at the window's
 * top price whose dateTime is between the window's end − 10 s and its end, both
 * inclusive (so a bid at a window's end instant, the next window's first
 * millisecond, joins this window's top price too). The peer of
 * examples/nexmark/queries.Q7. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in → filter(bid or end mark) → groupBy(one key) (repartition)
 *   → tumbling 10 s, grace 3999 ms → aggregate(top price, its bids, the bids at the start instant)
 *   → suppress(untilWindowCloses) → process(join each window with its boundaries, store q7-edges) → --out
 * </pre>
 *
 * <p>The end-of-input marks go into the aggregate (so that its stream time
 * closes the last windows) but add nothing to it.
 */
public final class NexmarkQ7 {
  private NexmarkQ7() {}

  static final long WINDOW_MS = 10_000;

  /** One window's top price, the bids at it, and the bids at its first millisecond. */
  public static final class TopBids {
    public long max;
    public List<NexmarkEvent.BidRow> top = new ArrayList<>();
    public List<NexmarkEvent.BidRow> atStart = new ArrayList<>();

    TopBids add(NexmarkEvent e) {
      if (!e.isBid()) {
        return this;
      }
      NexmarkEvent.BidRow b = new NexmarkEvent.BidRow(e);
      if (top.isEmpty() || b.price > max) {
        max = b.price;
        top.clear();
        top.add(b);
      } else if (b.price == max) {
        top.add(b);
      }
      if (b.dateTime % WINDOW_MS == 0) {
        atStart.add(b);
      }
      return this;
    }
  }

  /**
   * One window boundary: the top price of the window ending there once it
   * closed, or the bids at that instant waiting for it.
   */
  public static final class Edge {
    public long max;
    public boolean closed;
    public List<NexmarkEvent.BidRow> pending = new ArrayList<>();
  }

  /**
   * Writes each closed window's top bids, and joins the bids at each boundary
   * instant with the top price of the window ending there: windows may close
   * in any order, so whichever side of a boundary comes first waits in the
   * store.
   */
  static final class JoinBoundaries
      implements Processor<Windowed<Long>, TopBids, Long, NexmarkEvent.BidRow> {
    private ProcessorContext<Long, NexmarkEvent.BidRow> ctx;
    private KeyValueStore<Long, Edge> edges;

    @Override
    public void init(ProcessorContext<Long, NexmarkEvent.BidRow> ctx) {
      this.ctx = ctx;
      this.edges = ctx.getStateStore("q7-edges");
    }

    @Override
    public void process(Record<Windowed<Long>, TopBids> r) {
      TopBids t = r.value();
      if (t == null) {
        return;
      }
      for (NexmarkEvent.BidRow b : t.top) {
        ctx.forward(new Record<>(b.auction, b, r.timestamp()));
      }
      long start = r.key().window().start();
      long end = r.key().window().end();
      Edge before = edges.get(start);
      if (before != null && before.closed) {
        forwardAt(t.atStart, before.max, r.timestamp());
        edges.delete(start);
      } else {
        Edge e = new Edge();
        e.pending = t.atStart;
        edges.put(start, e);
      }
      Edge after = edges.get(end);
      if (after != null) {
        forwardAt(after.pending, t.max, r.timestamp());
        edges.delete(end);
      } else {
        Edge e = new Edge();
        e.max = t.max;
        e.closed = !t.top.isEmpty();
        edges.put(end, e);
      }
    }

    private void forwardAt(List<NexmarkEvent.BidRow> bids, long price, long ts) {
      for (NexmarkEvent.BidRow b : bids) {
        if (b.price == price) {
          ctx.forward(new Record<>(b.auction, b, ts));
        }
      }
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    Serde<Edge> edgeSerde = Peer.jsonSerde(Edge.class);
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore("q7-edges"), Serdes.Long(), edgeSerde));
    NexmarkEvent.source(b, flags)
        .filter((k, e) -> e.isBid() || e.isEnd())
        .groupBy((k, e) -> 0L, Grouped.with("q7-all", Serdes.Long(), NexmarkEvent.SERDE))
        .windowedBy(
            TimeWindows.ofSizeAndGrace(Duration.ofMillis(WINDOW_MS), Duration.ofMillis(3999)))
        .aggregate(
            TopBids::new,
            (k, e, t) -> t.add(e),
            Materialized.<Long, TopBids, WindowStore<Bytes, byte[]>>as("q7-top")
                .withKeySerde(Serdes.Long())
                .withValueSerde(Peer.jsonSerde(TopBids.class)))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .process(JoinBoundaries::new, "q7-edges")
        .to(Peer.need(flags, "out"), Produced.with(Serdes.Long(), NexmarkEvent.BID_ROW));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q7", args, NexmarkQ7::topology);
  }
}
