package gofka.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The peer of gofka's examples/orderenrich: a stream of orders joined with a
 * global table of products, by the product id each order carries.
 *
 * <pre>
 * --products (key: product id, value: JSON Product; null deletes) ─ global table "products"
 * --orders (key: order id, value: JSON Order)
 *   ├─ join(products, order.product_id)     ─▶ --out-enriched (key: order id, value: JSON EnrichedOrder)
 *   └─ leftJoin(products, order.product_id)
 *        └─ filter(not known)                ─▶ --out-missing  (key: order id, value: JSON EnrichedOrder)
 * </pre>
 *
 * <p>The global table is updated by a thread of its own, concurrently with the
 * stream thread that joins orders, as gofka's is: which orders see a product
 * update depends on timing. Flags: those of {@link Peer} but --in and --out,
 * and --orders (default orders), --products (default products), --out-enriched
 * (default enriched-orders), --out-missing (default orders-without-product).
 */
public final class OrderEnrich {
  private OrderEnrich() {}

  /** One order of a quantity of one product. */
  public static final class Order {
    public String id = "";
    public String product_id = "";
    public long quantity;
  }

  /** One row of the product catalogue. */
  public static final class Product {
    public String id = "";
    public String name = "";
    public long price_cents;
  }

  /** An order with what it buys; product_name is left out when empty, as gofka's omitempty does. */
  public static final class EnrichedOrder {
    public String order_id = "";
    public String product_id = "";

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public String product_name = "";

    public long quantity;
    public long total_cents;
    public boolean known;

    public EnrichedOrder() {}

    EnrichedOrder(Order o, Product p) {
      order_id = o.id;
      product_id = o.product_id;
      quantity = o.quantity;
      if (p != null) {
        product_name = p.name;
        total_cents = o.quantity * p.price_cents;
        known = true;
      }
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    GlobalKTable<String, Product> products =
        b.globalTable(
            flags.getOrDefault("products", "products"),
            Consumed.with(Serdes.String(), Peer.jsonSerde(Product.class)),
            Materialized.<String, Product, KeyValueStore<Bytes, byte[]>>as("products")
                .withKeySerde(Serdes.String())
                .withValueSerde(Peer.jsonSerde(Product.class)));
    KStream<String, Order> orders =
        b.stream(
            flags.getOrDefault("orders", "orders"),
            Consumed.with(Serdes.String(), Peer.jsonSerde(Order.class)));
    Produced<String, EnrichedOrder> produced =
        Produced.with(Serdes.String(), Peer.jsonSerde(EnrichedOrder.class));
    orders
        .join(products, (id, o) -> o.product_id, EnrichedOrder::new)
        .to(flags.getOrDefault("out-enriched", "enriched-orders"), produced);
    orders
        .leftJoin(products, (id, o) -> o.product_id, EnrichedOrder::new)
        .filter((id, e) -> !e.known)
        .to(flags.getOrDefault("out-missing", "orders-without-product"), produced);
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("orderenrich", args, OrderEnrich::topology);
  }
}
