package app

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/gofka/streams/coordinator"
)

// replicaSecurity checks the status server's TLS flags and loads the peer
// certificates (nil without them), logging what is and is not protected.
func replicaSecurity(rf runFlags, log *slog.Logger) (*coordinator.PeerTLS, error) {
	if (rf.statusTLSCert == "") != (rf.statusTLSKey == "") {
		return nil, errors.New("--status-tls-cert and --status-tls-key go together: give both or neither")
	}
	pt, err := peerTLS(rf)
	if err != nil {
		return nil, err
	}
	if pt == nil && (rf.peers != "" || rf.peersDNS != "") {
		log.Warn("replicas talk to each other in plaintext: anyone who reaches --raft-addr can join the group; give --peer-tls-ca, --peer-tls-cert and --peer-tls-key")
	}
	if pt != nil {
		log.Info("peer TLS: Raft and the control RPCs run over mutual TLS", "ca", rf.peerTLSCA, "cert", rf.peerTLSCert, "expires", pt.NotAfter())
	}
	return pt, nil
}

// peerTLS loads the replica certificates: all three flags or none.
func peerTLS(rf runFlags) (*coordinator.PeerTLS, error) {
	set := 0
	for _, v := range []string{rf.peerTLSCA, rf.peerTLSCert, rf.peerTLSKey} {
		if v != "" {
			set++
		}
	}
	switch set {
	case 0:
		return nil, nil
	case 3:
		pt, err := coordinator.LoadPeerTLS(rf.peerTLSCA, rf.peerTLSCert, rf.peerTLSKey)
		if err != nil {
			return nil, fmt.Errorf("--peer-tls-*: %w", err)
		}
		return pt, nil
	default:
		return nil, errors.New("--peer-tls-ca, --peer-tls-cert and --peer-tls-key go together: give all three or none")
	}
}
