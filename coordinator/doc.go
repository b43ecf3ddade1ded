// Package coordinator will hold the Raft coordinator group of a multi-replica
// deployment: every replica joins a hashicorp/raft group whose leader assigns tasks
// (sub-topology × partition), detects failed replicas and triggers barrier
// checkpoints, all through a replicated state machine. It is built in the
// coordination issue; until then a single process owns every task.
package coordinator
