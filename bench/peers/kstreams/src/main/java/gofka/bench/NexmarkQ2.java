package gofka.bench;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Nexmark q2, selection: the bids on auctions whose id is a multiple of 123.
 * The peer of examples/nexmark/queries.Q2. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in → filter(bid, auction % 123 = 0) → mapValues(auction, price) → --out
 * </pre>
 */
public final class NexmarkQ2 {
  private NexmarkQ2() {}

  /** A row of q2. */
  public static final class Row {
    public long auction;
    public long price;

    public Row() {}

    Row(NexmarkEvent e) {
      auction = e.auction;
      price = e.price;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    NexmarkEvent.source(b, flags)
        .filter((k, e) -> e.isBid() && e.auction % 123 == 0)
        .mapValues(Row::new)
        .to(Peer.need(flags, "out"), Produced.with(Serdes.ByteArray(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q2", args, NexmarkQ2::topology);
  }
}
