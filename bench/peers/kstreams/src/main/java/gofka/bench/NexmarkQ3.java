package gofka.bench;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;

/**
 * Nexmark q3, local item suggestion: every auction in category 10 with its
 * seller, a person in OR, ID or CA. The SQL's join is a regular one (both sides
 * kept), so a person who arrives after the auction still joins. The peer of
 * examples/nexmark/queries.Q3, written the same way: a stream-stream join on
 * seller = id over a year either way, longer than any input, which emits each
 * pair once, when the second of the two arrives. Flags: those of {@link Peer}.
 *
 * <pre>
 * --in ─┬─ persons in OR/ID/CA, by id ────────────┐
 *       └─ auctions in category 10, by seller ─────┴─ join (365 days either way) ─▶ --out
 * </pre>
 */
public final class NexmarkQ3 {
  private NexmarkQ3() {}

  /** What q3 needs of a person. */
  public static final class Place {
    public String name;
    public String city;
    public String state;

    public Place() {}

    Place(NexmarkEvent e) {
      name = e.name;
      city = e.city;
      state = e.state;
    }
  }

  /** A row of q3. */
  public static final class Row {
    public String name;
    public String city;
    public String state;
    public long id;

    public Row() {}

    Row(Place p, long auction) {
      name = p.name;
      city = p.city;
      state = p.state;
      id = auction;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KStream<byte[], NexmarkEvent> events = NexmarkEvent.source(b, flags);
    KStream<Long, Place> persons =
        events
            .filter(
                (k, e) ->
                    "person".equals(e.type)
                        && ("OR".equals(e.state) || "ID".equals(e.state) || "CA".equals(e.state)))
            .map((k, e) -> KeyValue.pair(e.id, new Place(e)));
    KStream<Long, Long> auctions =
        events
            .filter((k, e) -> "auction".equals(e.type) && e.category == 10)
            .map((k, e) -> KeyValue.pair(e.seller, e.id));
    persons
        .join(
            auctions,
            (p, auction) -> new Row(p, auction),
            JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofDays(365)),
            StreamJoined.with(Serdes.Long(), Peer.jsonSerde(Place.class), Serdes.Long())
                .withName("q3-join")
                .withStoreName("q3-join"))
        .to(Peer.need(flags, "out"), Produced.with(Serdes.Long(), Peer.jsonSerde(Row.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("nexmark-q3", args, NexmarkQ3::topology);
  }
}
