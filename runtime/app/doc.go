// Package app is the command line of a binary gofkagen generates. The generated
// main calls app.Main with the package's compiled topologies:
//
//	app run       (the default) process the topology on brokers, or on an embedded one
//	app broker    a standalone embedded development broker for runs with several replicas
//	app describe  print the topology as text and as a Mermaid diagram
//
// Flags also read environment variables: GOFKA_BROKERS for --brokers,
// GOFKA_SASL_PASSWORD for the SASL password and GOFKA_SASL_OAUTH_CLIENT_SECRET
// for the OAuth client secret (see runtime/kafkaconf for the security flags).
// The broker command's --tls-cert, --tls-key, --tls-client-ca and --sasl-user
// secure the development broker (broker.go; librdkafka.go makes kcat's SASL
// work with it).
//
// Without --peers or --peers-dns, run finds the other instances of its
// --app-id through the brokers (runtime/discovery, the topic
// <app-id>-gofka-replicas): starting another instance scales out;
// --discovery=false runs an instance alone.
//
// --peer-tls-ca, --peer-tls-cert and --peer-tls-key (all three or none) run
// Raft and the control RPCs between replicas over mutual TLS;
// --status-tls-cert, --status-tls-key and --status-token-file protect the
// status server (security.go).
package app
