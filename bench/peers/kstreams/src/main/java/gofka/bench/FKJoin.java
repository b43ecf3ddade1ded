package gofka.bench;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The peer of gofka's examples/fkjoin: orders joined with their customers by
 * foreign-key table-table joins (KIP-213), a left join and an inner one.
 *
 * <pre>
 * --orders (key: order id, value: JSON Order; null deletes) ─ table "orders"
 *   ├─ leftJoin(customers, order.customer) ─▶ --out-details (key: order id, value: JSON OrderDetails; null: a delete)
 *   └─ join(customers, order.customer)     ─▶ --out-placed  (key: order id, value: JSON OrderDetails; null: a delete)
 * --customers (key: customer id, value: JSON Customer; null deletes) ─ table "customers"
 * </pre>
 *
 * <p>An order without a customer (an empty one) has a null foreign key: the
 * left join emits it without a customer, the inner join drops it (Kafka
 * Streams 3.7+, KIP-962). Kafka Streams 3.9's foreign-key joiner is not handed the key, so the order
 * id is set on the result by a mapValues after the join (gofka's joiner gets
 * it). Flags: those of {@link Peer} but --in and --out, and --orders (default
 * orders), --customers (default customers), --out-details (default
 * order-details), --out-placed (default placed-orders).
 */
public final class FKJoin {
  private FKJoin() {}

  /** A row of the customers table. */
  public static final class Customer {
    public String name = "";
    public String region = "";
  }

  /** A row of the orders table: it refers to its customer by id. */
  public static final class Order {
    public String customer = "";
    public long amount_cents;
  }

  /** An order with its customer's name and region (empty when unknown). */
  public static final class OrderDetails {
    public String order = "";
    public String customer = "";
    public String name = "";
    public String region = "";
    public long amount_cents;

    public OrderDetails() {}

    OrderDetails(Order o, Customer c) {
      customer = o.customer;
      amount_cents = o.amount_cents;
      if (c != null) {
        name = c.name;
        region = c.region;
      }
    }

    static OrderDetails withId(String id, OrderDetails d) {
      if (d != null) {
        d.order = id;
      }
      return d;
    }
  }

  static <V> KTable<String, V> table(StreamsBuilder b, String topic, Class<V> type) {
    return b.table(
        topic,
        Consumed.with(Serdes.String(), Peer.jsonSerde(type)),
        Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(topic)
            .withKeySerde(Serdes.String())
            .withValueSerde(Peer.jsonSerde(type)));
  }

  /** The foreign key: the order's customer, null for none (an empty customer). */
  static String customerOf(Order o) {
    return o.customer == null || o.customer.isEmpty() ? null : o.customer;
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KTable<String, Order> orders = table(b, flags.getOrDefault("orders", "orders"), Order.class);
    KTable<String, Customer> customers =
        table(b, flags.getOrDefault("customers", "customers"), Customer.class);
    Produced<String, OrderDetails> produced =
        Produced.with(Serdes.String(), Peer.jsonSerde(OrderDetails.class));
    orders
        .leftJoin(
            customers, FKJoin::customerOf, OrderDetails::new, TableJoined.as("order-details"))
        .toStream()
        .mapValues(OrderDetails::withId)
        .to(flags.getOrDefault("out-details", "order-details"), produced);
    orders
        .join(customers, FKJoin::customerOf, OrderDetails::new, TableJoined.as("placed-orders"))
        .toStream()
        .mapValues(OrderDetails::withId)
        .to(flags.getOrDefault("out-placed", "placed-orders"), produced);
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("fkjoin", args, FKJoin::topology);
  }
}
