package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// resolver is the part of net.Resolver peer discovery uses; tests replace it.
type resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// lookupPeers resolves name to raft addresses, sorted: the SRV records
// _raft._tcp.<name> if there are any (a Kubernetes headless service gives the
// stable host names of a StatefulSet's pods), else the name's A/AAAA records
// with port.
func lookupPeers(ctx context.Context, r resolver, name string, port int) ([]string, error) {
	_, srvs, srvErr := r.LookupSRV(ctx, "raft", "tcp", name)
	if srvErr == nil && len(srvs) > 0 {
		var out []string
		for _, s := range srvs {
			host := strings.TrimSuffix(s.Target, ".")
			if host == "" || s.Port == 0 {
				continue
			}
			out = append(out, net.JoinHostPort(host, strconv.Itoa(int(s.Port))))
		}
		if len(out) > 0 {
			slices.Sort(out)
			return slices.Compact(out), nil
		}
	}
	hosts, err := r.LookupHost(ctx, name)
	if err != nil {
		if srvErr != nil {
			return nil, fmt.Errorf("look up peers %q: SRV _raft._tcp: %v; A/AAAA: %w", name, srvErr, err)
		}
		return nil, fmt.Errorf("look up peers %q: no SRV records; A/AAAA: %w", name, err)
	}
	if port <= 0 {
		return nil, fmt.Errorf("look up peers %q: A/AAAA records found but no port to use with them", name)
	}
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, net.JoinHostPort(h, strconv.Itoa(port)))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// waitPeers re-resolves name until it gives at least want addresses (the
// voters), every interval, for at most limit.
func waitPeers(ctx context.Context, r resolver, name string, port, want int, interval, limit time.Duration, log *slog.Logger) ([]string, error) {
	deadline := time.Now().Add(limit)
	lastLog := time.Time{}
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		peers, err := lookupPeers(lctx, r, name, port)
		cancel()
		if err == nil && len(peers) >= want {
			return peers, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("found %d of the %d voters: %v", len(peers), want, peers)
			}
			return nil, fmt.Errorf("peer discovery through %q gave up after %s: %w", name, limit, err)
		}
		if time.Since(lastLog) >= 10*time.Second {
			log.Info("coordinator: waiting for the peers' DNS records", "name", name, "found", peers, "want", want, "err", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
