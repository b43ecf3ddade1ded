package gofka.bench;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The peer of gofka's examples/tablejoin: orders enriched with their customer
 * by a stream-table left join, and the number of customers per region kept up
 * to date by a table groupBy and count (old row subtracted, new row added).
 *
 * <pre>
 * --customers (key: customer id, value: JSON Customer; null deletes) ─ table "customers"
 *   └─ groupBy(region) ▶ repartition ▶ count("customers-per-region") ─▶ --out-counts (key: region, value: long)
 * --orders (key: order id, value: JSON Order)
 *   └─ mapValues(with the order id) ─ selectKey(customer) ▶ repartition
 *        ─ leftJoin(customers) ─▶ --out (key: customer id, value: JSON EnrichedOrder)
 * </pre>
 *
 * <p>Flags: those of {@link Peer} but --in, and --customers (default customers),
 * --orders (default orders), --out (default enriched-orders), --out-counts
 * (default customers-per-region).
 */
public final class TableJoin {
  private TableJoin() {}

  /** A row of the customers table. */
  public static final class Customer {
    public String name = "";
    public String region = "";
  }

  /** An order placed by a customer. */
  public static final class Order {
    public String customer = "";
    public long amount_cents;
  }

  /** An order with its customer's name and region when it was processed. */
  public static final class EnrichedOrder {
    public String order = "";
    public String customer = "";
    public String name = "";
    public String region = "";
    public long amount_cents;

    public EnrichedOrder() {}

    EnrichedOrder(String id, Order o) {
      order = id;
      customer = o.customer;
      region = "unknown";
      amount_cents = o.amount_cents;
    }

    EnrichedOrder enrich(Customer c) {
      if (c != null) {
        name = c.name;
        region = c.region;
      }
      return this;
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KTable<String, Customer> customers =
        b.table(
            flags.getOrDefault("customers", "customers"),
            Consumed.with(Serdes.String(), Peer.jsonSerde(Customer.class)),
            Materialized.<String, Customer, KeyValueStore<Bytes, byte[]>>as("customers")
                .withKeySerde(Serdes.String())
                .withValueSerde(Peer.jsonSerde(Customer.class)));
    customers
        .groupBy(
            (id, c) -> KeyValue.pair(c.region, c.name),
            Grouped.with(Serdes.String(), Serdes.String()))
        .count(
            Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("customers-per-region")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()))
        .toStream()
        .to(
            flags.getOrDefault("out-counts", "customers-per-region"),
            Produced.with(Serdes.String(), Serdes.Long()));
    b.stream(
            flags.getOrDefault("orders", "orders"),
            Consumed.with(Serdes.String(), Peer.jsonSerde(Order.class)))
        .mapValues(EnrichedOrder::new)
        .selectKey((id, e) -> e.customer)
        .leftJoin(
            customers,
            EnrichedOrder::enrich,
            Joined.with(
                Serdes.String(),
                Peer.jsonSerde(EnrichedOrder.class),
                Peer.jsonSerde(Customer.class)))
        .to(
            flags.getOrDefault("out", "enriched-orders"),
            Produced.with(Serdes.String(), Peer.jsonSerde(EnrichedOrder.class)));
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("tablejoin", args, TableJoin::topology);
  }
}
