package gofka.bench;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;

/**
 * The peer of gofka's examples/adclicks: ad clicks attributed to impressions by
 * a stream-stream left join, a click counting when it comes at most ten minutes
 * after its impression (JoinWindows before 0, after 10 min, grace 1 min), an
 * impression no click follows reported once its window has closed.
 *
 * <pre>
 * --impressions (key: impression id, value: JSON Impression)
 *   │                       --clicks (key: user, value: JSON Click)
 *   │                         └─ selectKey(click.impression) ▶ repartition
 *   └─ leftJoin(10 min after, grace 1 min) ◀──────────────────┘
 *   ▼
 * --out (key: impression id, value: JSON Attribution)
 * </pre>
 *
 * <p>Flags: those of {@link Peer} but --in, and --impressions (default
 * ad-impressions), --clicks (default ad-clicks), --out (default ad-attributions).
 * The JSON field names are those of the gofka example's types.
 */
public final class AdClicks {
  private AdClicks() {}

  /** An ad shown to a user. */
  public static final class Impression {
    public String ad = "";
    public String user = "";
  }

  /** A user's click on the ad of an impression. */
  public static final class Click {
    public String impression = "";
  }

  /** Whether an impression's ad was clicked (one record per click). */
  public static final class Attribution {
    public String ad;
    public String user;
    public boolean clicked;

    public Attribution() {}

    Attribution(Impression imp, Click click) {
      ad = imp.ad;
      user = imp.user;
      clicked = click != null;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KStream<String, Impression> impressions =
        b.stream(
            flags.getOrDefault("impressions", "ad-impressions"),
            Consumed.with(Serdes.String(), Peer.jsonSerde(Impression.class)));
    KStream<String, Click> clicks =
        b.stream(
                flags.getOrDefault("clicks", "ad-clicks"),
                Consumed.with(Serdes.String(), Peer.jsonSerde(Click.class)))
            .selectKey((user, c) -> c.impression);
    impressions
        .leftJoin(
            clicks,
            Attribution::new,
            JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMinutes(10), Duration.ofMinutes(1))
                .before(Duration.ZERO),
            StreamJoined.with(
                    Serdes.String(), Peer.jsonSerde(Impression.class), Peer.jsonSerde(Click.class))
                .withName("impression-clicks")
                .withStoreName("impression-clicks"))
        .to(
            flags.getOrDefault("out", "ad-attributions"),
            Produced.with(Serdes.String(), Peer.jsonSerde(Attribution.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("adclicks", args, AdClicks::topology);
  }
}
