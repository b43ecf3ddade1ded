package gofka.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Click-count written with the Kafka Streams DSL: the peer of gofka's
 * examples/clickcount in the end-to-end benchmark (bench/e2e).
 *
 * <pre>
 * user-clicks (key: click id string, value: JSON {"user","url","bot"})
 *   → filter(not a bot) → selectKey(user) → groupByKey (repartition topic
 *   &lt;app-id&gt;-click-counts-repartition) → count(RocksDB store click-counts,
 *   changelog &lt;app-id&gt;-click-counts-changelog) → toStream
 *   → user-click-counts (key: user string, value: Long, 8 bytes big-endian)
 * </pre>
 *
 * The output bytes are exactly gofka's: Serdes.String() is UTF-8 and
 * Serdes.Long() is the 8-byte big-endian encoding of gofka's IntSerde[int64].
 * The repartition topic carries the click as JSON, as the DSL needs a value
 * there (count ignores records with a null value).
 *
 * <p>Flags: those of {@link Peer} (the exactly-once benchmark, bench/e2e -eos,
 * runs both guarantees).
 */
public final class ClickCount {
  private ClickCount() {}

  /** One click on a page: the JSON value of user-clicks. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Click {
    public String user;
    public String url;
    public boolean bot;
  }

  /** The click-count topology from topic in to topic out. */
  static Topology topology(String in, String out) {
    Serde<Click> clicks = Peer.jsonSerde(Click.class);
    StreamsBuilder b = new StreamsBuilder();
    b.stream(in, Consumed.with(Serdes.String(), clicks))
        .filter((clickId, c) -> c != null && !c.bot)
        .selectKey((clickId, c) -> c.user)
        .groupByKey(Grouped.with("click-counts", Serdes.String(), clicks))
        .count(
            Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("click-counts")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()))
        .toStream()
        .to(out, Produced.with(Serdes.String(), Serdes.Long()));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("click-count", args, flags -> topology(Peer.need(flags, "in"), Peer.need(flags, "out")));
  }
}
