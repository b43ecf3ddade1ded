package gofka.bench;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Nexmark q1, currency conversion: every bid with its price × 0.908. The peer
 * of examples/nexmark/queries.Q1. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in → filter(bid) → mapValues(price × 0.908) → --out
 * </pre>
 */
public final class NexmarkQ1 {
  private NexmarkQ1() {}

  /** A row of q1: the price in euros, exact in thousandths (the suite's DECIMAL(23, 3)). */
  public static final class Row {
    public long auction;
    public long bidder;
    public double price;
    public long dateTime;
    public String extra;

    public Row() {}

    Row(NexmarkEvent e) {
      auction = e.auction;
      bidder = e.bidder;
      price = (double) (e.price * 908) / 1000;
      dateTime = e.dateTime;
      extra = e.extra;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    NexmarkEvent.source(b, flags)
        .filter((k, e) -> e.isBid())
        .mapValues(Row::new)
        .to(Peer.need(flags, "out"), Produced.with(Serdes.ByteArray(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q1", args, NexmarkQ1::topology);
  }
}
