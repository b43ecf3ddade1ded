package gofka.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.state.WindowStore;

/**
 * A windowed count of page views written with the Kafka Streams DSL: the peer
 * of gofka's examples/pageviews in the windowed comparisons (test/e2e on the
 * real-Kafka tier, and the windowed benchmark).
 *
 * <pre>
 * page-views (key: user, value: JSON {"page","viewed_at"}; event time = viewed_at)
 *   → selectKey(page) → groupByKey (repartition topic &lt;app-id&gt;-page-view-counts-repartition)
 *   → windowedBy(TimeWindows of --size-ms, advancing --advance-ms, grace --grace-ms)
 *   → count(store page-view-counts) [→ suppress(untilWindowCloses), with --suppress true]
 *   → toStream → out (key: Windowed&lt;String&gt; in the time-windowed serde's bytes:
 *     the page's UTF-8 bytes, then the window start as 8 bytes big-endian; value: Long)
 * </pre>
 *
 * <p>Flags: those of {@link Peer}, and --size-ms (default 60000), --advance-ms
 * (default: the size, a tumbling window), --grace-ms (default 0), --suppress
 * (true: one final count per window, once it closed; default false: every update).
 */
public final class WindowedCount {
  private WindowedCount() {}

  /** One view of a page: the JSON value of page-views. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class PageView {
    public String page;

    @JsonProperty("viewed_at")
    public long viewedAt;
  }

  /** Event time is the view's viewed_at, as gofka's WithTimestamp(viewedAt). */
  static final class ViewedAt implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      return record.value() instanceof PageView v ? v.viewedAt : record.timestamp();
    }
  }

  static Topology topology(Map<String, String> flags) {
    String in = Peer.need(flags, "in");
    String out = Peer.need(flags, "out");
    long size = Long.parseLong(flags.getOrDefault("size-ms", "60000"));
    long advance = Long.parseLong(flags.getOrDefault("advance-ms", Long.toString(size)));
    long grace = Long.parseLong(flags.getOrDefault("grace-ms", "0"));
    boolean suppress = Boolean.parseBoolean(flags.getOrDefault("suppress", "false"));

    Serde<PageView> views = Peer.jsonSerde(PageView.class);
    StreamsBuilder b = new StreamsBuilder();
    KTable<Windowed<String>, Long> counts =
        b.stream(in, Consumed.with(Serdes.String(), views).withTimestampExtractor(new ViewedAt()))
            .selectKey((user, v) -> v.page)
            .groupByKey(Grouped.with("page-view-counts", Serdes.String(), views))
            .windowedBy(
                TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace))
                    .advanceBy(Duration.ofMillis(advance)))
            .count(
                Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("page-view-counts")
                    .withKeySerde(Serdes.String())
                    .withValueSerde(Serdes.Long()));
    if (suppress) {
      counts = counts.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()));
    }
    counts
        .toStream()
        .to(out, Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), Serdes.Long()));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("windowed-count", args, WindowedCount::topology);
  }
}
