// Package ir is the intermediate representation between a topology's source and the
// generated code: a typed DAG of operator nodes, each with the source position of
// the DSL call that made it.
//
// The frontend builds a Graph from the user's calls, and hands codegen a Package:
// the package's lowered graphs and what the generated file needs to know of it. The passes in Lower then shape
// it for code generation, in this order:
//
//	Validate            every stream reaches a sink or store; stores and topics are sound
//	InsertRepartitions  a grouping after a key-changing step reads through a repartition topic
//	Split               cut at repartition topics into sub-topologies (one task type each)
//	Fuse                find the fused segments of each sub-topology: one straight-line
//	                    loop per source, and one method per merge point
//	Name                derive store, changelog and internal topic names from the app id
//
// A sub-topology is what a task runs: fetched records enter at a source node and flow
// through the node chain as local variables; nothing but the generated code sits
// between two nodes. The IR leaves room for windows and joins: a node may have
// several inputs, a store has a kind, and a stateful node names its store.
package ir
