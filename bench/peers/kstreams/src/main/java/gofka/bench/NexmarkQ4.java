package gofka.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
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
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Nexmark q4, average price per category: the average, per category, of the
 * winning (top) price of its auctions among the bids made while the auction
 * was open (BETWEEN, inclusive), an integer average (truncated). The peer of
 * examples/nexmark/queries.Q4, written the same way. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in ─┬─ auctions by id ─────┐
 *       └─ bids by auction ────┴─ join (the bid within a minute after the auction) ─▶ filter(BETWEEN)
 *   ─▶ groupByKey: max price per auction (table) ─▶ groupBy category: sum, count (adder, subtractor)
 *   ─▶ average (a category with no auction: deleted) ─▶ --out (every update; the rows are the last per key)
 * </pre>
 */
public final class NexmarkQ4 {
  private NexmarkQ4() {}

  /** How long an auction may stay open (queries.q4MaxAuction). */
  static final Duration MAX_AUCTION = Duration.ofMinutes(1);

  /** What q4 needs of an auction. */
  public static final class Span {
    public long dateTime;
    public long expires;
    public long category;

    public Span() {}

    Span(NexmarkEvent e) {
      dateTime = e.dateTime;
      expires = e.expires;
      category = e.category;
    }
  }

  /** A bid joined with its auction: its price, the category, and whether the auction was open. */
  public static final class Closing {
    public long category;
    public long price;
    public boolean open;

    public Closing() {}

    Closing(Span a, NexmarkEvent b) {
      category = a.category;
      price = b.price;
      open = b.dateTime >= a.dateTime && b.dateTime <= a.expires;
    }
  }

  /** An auction's top price so far. */
  public static final class Winning {
    public long category;
    public long price;
    public boolean any;
  }

  /** The sum and number of a category's winning prices. */
  public static final class Sum {
    public long sum;
    public long n;
  }

  /** A row of q4. */
  public static final class Row {
    public long id;

    @JsonProperty("final")
    public long average;

    public Row() {}

    Row(long id, long average) {
      this.id = id;
      this.average = average;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KStream<byte[], NexmarkEvent> events = NexmarkEvent.source(b, flags);
    KStream<Long, Span> auctions =
        events
            .filter((k, e) -> "auction".equals(e.type))
            .map((k, e) -> KeyValue.pair(e.id, new Span(e)));
    KStream<Long, NexmarkEvent> bids =
        events.filter((k, e) -> e.isBid()).map((k, e) -> KeyValue.pair(e.auction, e));
    auctions
        .join(
            bids,
            Closing::new,
            JoinWindows.ofTimeDifferenceAndGrace(MAX_AUCTION, Duration.ofMillis(3999))
                .before(Duration.ZERO),
            StreamJoined.with(Serdes.Long(), Peer.jsonSerde(Span.class), NexmarkEvent.SERDE)
                .withName("q4-join")
                .withStoreName("q4-join"))
        .filter((auction, c) -> c.open)
        .groupByKey(Grouped.with("q4-by-auction", Serdes.Long(), Peer.jsonSerde(Closing.class)))
        .aggregate(
            Winning::new,
            (auction, c, w) -> {
              if (!w.any || c.price > w.price) {
                w.price = c.price;
              }
              w.category = c.category;
              w.any = true;
              return w;
            },
            Materialized.<Long, Winning, KeyValueStore<Bytes, byte[]>>as("q4-winning")
                .withKeySerde(Serdes.Long())
                .withValueSerde(Peer.jsonSerde(Winning.class)))
        .groupBy(
            (auction, w) -> KeyValue.pair(w.category, w.price),
            Grouped.with("q4-by-category", Serdes.Long(), Serdes.Long()))
        .aggregate(
            Sum::new,
            (category, price, s) -> {
              s.sum += price;
              s.n++;
              return s;
            },
            (category, price, s) -> {
              s.sum -= price;
              s.n--;
              return s;
            },
            Materialized.<Long, Sum, KeyValueStore<Bytes, byte[]>>as("q4-sums")
                .withKeySerde(Serdes.Long())
                .withValueSerde(Peer.jsonSerde(Sum.class)))
        .mapValues((category, s) -> s.n > 0 ? new Row(category, s.sum / s.n) : null)
        .toStream()
        .to(Peer.need(flags, "out"), Produced.with(Serdes.Long(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q4", args, NexmarkQ4::topology);
  }
}
