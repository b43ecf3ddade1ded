package gofka.bench;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The peer of gofka's examples/tabletable: two tables keyed alike, customers
 * and their accounts, joined on their key three ways.
 *
 * <pre>
 * --customers (key: customer id, value: JSON Customer; null deletes) ─ table "customers"
 * --accounts  (key: customer id, value: JSON Account;  null deletes) ─ table "accounts"
 *   ├─ join(accounts)      ─▶ --out-inner (key: customer id, value: JSON CustomerAccount; null: a delete)
 *   ├─ leftJoin(accounts)  ─▶ --out-left
 *   └─ outerJoin(accounts) ─▶ --out-outer
 * </pre>
 *
 * <p>Flags: those of {@link Peer} but --in and --out, and --customers (default
 * customers), --accounts (default accounts), --out-inner (default
 * customer-accounts), --out-left (default customers-with-accounts), --out-outer
 * (default customers-or-accounts).
 */
public final class TableTable {
  private TableTable() {}

  /** A row of the customers table. */
  public static final class Customer {
    public String name = "";
    public String region = "";
  }

  /** A row of the accounts table: one account per customer. */
  public static final class Account {
    public long balance_cents;
    public String status = "";
  }

  /** A joined row; has_customer and has_account say which sides it had. */
  public static final class CustomerAccount {
    public String name = "";
    public String region = "";
    public long balance_cents;
    public String status = "";
    public boolean has_customer;
    public boolean has_account;

    public CustomerAccount() {}

    CustomerAccount(Customer c, Account a) {
      if (c != null) {
        name = c.name;
        region = c.region;
        has_customer = true;
      }
      if (a != null) {
        balance_cents = a.balance_cents;
        status = a.status;
        has_account = true;
      }
    }
  }

  static Topology topology(Map<String, String> flags) {
    StreamsBuilder b = new StreamsBuilder();
    KTable<String, Customer> customers =
        FKJoin.table(b, flags.getOrDefault("customers", "customers"), Customer.class);
    KTable<String, Account> accounts =
        FKJoin.table(b, flags.getOrDefault("accounts", "accounts"), Account.class);
    Produced<String, CustomerAccount> produced =
        Produced.with(Serdes.String(), Peer.jsonSerde(CustomerAccount.class));
    customers
        .join(accounts, CustomerAccount::new)
        .toStream()
        .to(flags.getOrDefault("out-inner", "customer-accounts"), produced);
    customers
        .leftJoin(accounts, CustomerAccount::new)
        .toStream()
        .to(flags.getOrDefault("out-left", "customers-with-accounts"), produced);
    customers
        .outerJoin(accounts, CustomerAccount::new)
        .toStream()
        .to(flags.getOrDefault("out-outer", "customers-or-accounts"), produced);
    return b.build();
  }

  public static void main(String[] args) throws InterruptedException {
    Peer.run("tabletable", args, TableTable::topology);
  }
}
