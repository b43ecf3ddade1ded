// Package model holds the Nexmark events as the JSON lines of `nexmark gen`
// carry them: the suite's field names (nexmark-flink's ddl_gen.sql), times as
// epoch milliseconds, one event a line with its kind in "type".
//
//	generator ──Person/Auction/Bid──▶ JSON line ──decode──▶ Event (flat) ──▶ topologies, reference
//
// Event is the union the queries read: one struct with every field of the three
// kinds, so one serde decodes any line. Person, Auction and Bid are what the
// generator writes, each with only its own fields.
package model

// The values of Event.Type.
const (
	TypePerson  = "person"
	TypeAuction = "auction"
	TypeBid     = "bid"
)

// Event is any Nexmark event, decoded from one JSON line. Fields of the other
// kinds stay zero.
type Event struct {
	Type string `json:"type"`

	// person and auction
	ID int64 `json:"id"`

	// person
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	CreditCard   string `json:"creditCard"`
	City         string `json:"city"`
	State        string `json:"state"`

	// auction
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	InitialBid  int64  `json:"initialBid"`
	Reserve     int64  `json:"reserve"`
	Expires     int64  `json:"expires"` // epoch ms
	Seller      int64  `json:"seller"`
	Category    int64  `json:"category"`

	// bid
	Auction int64 `json:"auction"`
	Bidder  int64 `json:"bidder"`
	Price   int64 `json:"price"`

	// every kind
	DateTime int64  `json:"dateTime"` // epoch ms
	Extra    string `json:"extra"`
}

// Person is a person event as the generator writes it.
type Person struct {
	Type         string `json:"type"` // TypePerson
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	CreditCard   string `json:"creditCard"`
	City         string `json:"city"`
	State        string `json:"state"`
	DateTime     int64  `json:"dateTime"`
	Extra        string `json:"extra"`
}

// Auction is an auction event as the generator writes it.
type Auction struct {
	Type        string `json:"type"` // TypeAuction
	ID          int64  `json:"id"`
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	InitialBid  int64  `json:"initialBid"`
	Reserve     int64  `json:"reserve"`
	DateTime    int64  `json:"dateTime"`
	Expires     int64  `json:"expires"`
	Seller      int64  `json:"seller"`
	Category    int64  `json:"category"`
	Extra       string `json:"extra"`
}

// Bid is a bid event as the generator writes it.
type Bid struct {
	Type     string `json:"type"` // TypeBid
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}
