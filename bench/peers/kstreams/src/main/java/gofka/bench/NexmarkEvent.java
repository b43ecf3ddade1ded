package gofka.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * One Nexmark event as `nexmark gen` writes it (one JSON line, its kind in
 * "type", times in epoch ms), and what every Nexmark peer query shares: the
 * source, whose event time is the event's dateTime, and the rows it writes.
 *
 * <pre>
 * --in (JSON lines, no key) → Consumed(event serde, event time = dateTime) → the query → --out (rows as JSON)
 * </pre>
 *
 * <p>The bounded input ends with end-of-input marks, {"type":"end","dateTime":…}
 * an hour and two hours after the last event. Kafka Streams closes a window
 * only when a later record reaches the window's own processor, so each query
 * lets the marks through to its windowed steps (under a key no event has, -1,
 * whose windows are never written out) and drops them before its sink.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class NexmarkEvent {
  public String type;
  public long id;
  public String name;
  public String emailAddress;
  public String creditCard;
  public String city;
  public String state;
  public String itemName;
  public String description;
  public long initialBid;
  public long reserve;
  public long expires;
  public long seller;
  public long category;
  public long auction;
  public long bidder;
  public long price;
  public long dateTime;
  public String extra;

  boolean isBid() {
    return "bid".equals(type);
  }

  boolean isEnd() {
    return "end".equals(type);
  }

  /** The key of the end-of-input marks in the windowed steps. */
  static final long END_KEY = -1;

  static final Serde<NexmarkEvent> SERDE = Peer.jsonSerde(NexmarkEvent.class);

  /** Event time is the event's dateTime (the suite's rowtime). */
  static final class EventTime implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      return record.value() instanceof NexmarkEvent e ? e.dateTime : record.timestamp();
    }
  }

  /** The events topic (--in) as a stream in event time. */
  static KStream<byte[], NexmarkEvent> source(StreamsBuilder b, Map<String, String> flags) {
    return b.stream(
        Peer.need(flags, "in"),
        Consumed.with(Serdes.ByteArray(), SERDE).withTimestampExtractor(new EventTime()));
  }

  /** A row of q0 and q7: a bid as the sink's columns. */
  public static final class BidRow {
    public long auction;
    public long bidder;
    public long price;
    public long dateTime;
    public String extra;

    public BidRow() {}

    BidRow(NexmarkEvent e) {
      auction = e.auction;
      bidder = e.bidder;
      price = e.price;
      dateTime = e.dateTime;
      extra = e.extra;
    }
  }

  static final Serde<BidRow> BID_ROW = Peer.jsonSerde(BidRow.class);
}
