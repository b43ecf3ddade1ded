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
 * The peer of gofka's examples/orderpayments: orders matched with the payments
 * made for them by two stream-stream joins on the same streams, payments
 * re-keyed by the order they pay. An inner join (paid orders: a payment from 5
 * minutes before the order to 1 minute after, grace 30 s) and an outer join
 * (reconciliation: from 2 minutes before to 15 minutes after, grace 5 min; an
 * order or payment that joined nothing is written alone once its window has
 * closed).
 *
 * <pre>
 * --orders (key: order id, value: JSON Order)
 *   │                       --payments (key: payment id, value: JSON Payment)
 *   │                         └─ selectKey(payment.order) ▶ a repartition topic per join
 *   ├─ join(5 min before, 1 min after, grace 30 s) ◀─────────┤ ▶ --paid (JSON PaidOrder)
 *   └─ outerJoin(2 min before, 15 min after, grace 5 min) ◀──┘ ▶ --reconciled (JSON Reconciliation)
 * </pre>
 *
 * <p>Flags: those of {@link Peer} but --in and --out, and --orders (default
 * orders), --payments (default payments), --paid (default paid-orders),
 * --reconciled (default reconciliation). The JSON field names are those of the
 * gofka example's types.
 */
public final class OrderPayments {
  private OrderPayments() {}

  /** An order placed by a customer. */
  public static final class Order {
    public String customer = "";
    public long amount_cents;
  }

  /** A payment for the order it names. */
  public static final class Payment {
    public String order = "";
    public long amount_cents;
    public String method = "";
  }

  /** An order with one payment made for it. */
  public static final class PaidOrder {
    public String customer;
    public long order_cents;
    public long paid_cents;
    public String method;

    public PaidOrder() {}

    PaidOrder(Order o, Payment p) {
      customer = o.customer;
      order_cents = o.amount_cents;
      paid_cents = p.amount_cents;
      method = p.method;
    }
  }

  /** An order with a payment that settles it, an order without one, or a payment without an order. */
  public static final class Reconciliation {
    public String status;
    public String customer = "";
    public long order_cents;
    public long paid_cents;

    public Reconciliation() {}

    Reconciliation(Order o, Payment p) {
      if (p == null) {
        status = "unpaid";
      } else if (o == null) {
        status = "orphan";
      } else {
        status = "paid";
      }
      if (o != null) {
        customer = o.customer;
        order_cents = o.amount_cents;
      }
      if (p != null) {
        paid_cents = p.amount_cents;
      }
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KStream<String, Order> orders =
        b.stream(
            flags.getOrDefault("orders", "orders"),
            Consumed.with(Serdes.String(), Peer.jsonSerde(Order.class)));
    KStream<String, Payment> payments =
        b.stream(
                flags.getOrDefault("payments", "payments"),
                Consumed.with(Serdes.String(), Peer.jsonSerde(Payment.class)))
            .selectKey((id, p) -> p.order);
    orders
        .join(
            payments,
            PaidOrder::new,
            JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMinutes(5), Duration.ofSeconds(30))
                .after(Duration.ofMinutes(1)),
            joined("order-payments"))
        .to(
            flags.getOrDefault("paid", "paid-orders"),
            Produced.with(Serdes.String(), Peer.jsonSerde(PaidOrder.class)));
    orders
        .outerJoin(
            payments,
            Reconciliation::new,
            JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMinutes(15), Duration.ofMinutes(5))
                .before(Duration.ofMinutes(2)),
            joined("order-reconciliation"))
        .to(
            flags.getOrDefault("reconciled", "reconciliation"),
            Produced.with(Serdes.String(), Peer.jsonSerde(Reconciliation.class)));
    return b.build();
  }

  /** The join's serdes and its name (that of its stores and repartition topic, as in gofka). */
  private static StreamJoined<String, Order, Payment> joined(String name) {
    return StreamJoined.with(Serdes.String(), Peer.jsonSerde(Order.class), Peer.jsonSerde(Payment.class))
        .withName(name)
        .withStoreName(name);
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("orderpayments", args, OrderPayments::topology);
  }
}
