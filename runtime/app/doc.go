// Package app is the command line of a binary gofkagen generates. The generated
// main calls app.Main with the package's compiled topologies:
//
//	app run       (the default) process the topology on brokers, or on an embedded one
//	app broker    a standalone embedded development broker for runs with several replicas
//	app describe  print the topology as text and as a Mermaid diagram
//
// Flags also read environment variables: GOFKA_BROKERS for --brokers.
package app
