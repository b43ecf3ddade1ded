package gofka.bench;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Nexmark q0, pass-through: every bid, as its row. The peer of
 * examples/nexmark/queries.Q0. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in → filter(bid) → mapValues(row) → --out
 * </pre>
 */
public final class NexmarkQ0 {
  private NexmarkQ0() {}

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    NexmarkEvent.source(b, flags)
        .filter((k, e) -> e.isBid())
        .mapValues(NexmarkEvent.BidRow::new)
        .to(Peer.need(flags, "out"), Produced.with(Serdes.ByteArray(), NexmarkEvent.BID_ROW));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q0", args, NexmarkQ0::topology);
  }
}
