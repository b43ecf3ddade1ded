package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake registers SaslHandshake (key 17) at versions 1 to 1: it does not
// implement v0, after which the SASL bytes travel unframed. librdkafka (and so
// kcat, confluent-kafka-python, …) enables its SASL handshake only if the
// broker's range includes v0 (rdkafka_feature.c: RD_KAFKA_FEATURE_SASL_HANDSHAKE
// depends on SaslHandshake 0..0), although it then sends v1 and
// SaslAuthenticate to any broker that has them. Against kfake's SASL listener
// it therefore gives up with "SASL Handshake not supported by broker (required
// by mechanism SCRAM-SHA-256)".
//
// The development broker answers librdkafka's ApiVersions (recognized by its
// client software name) with SaslHandshake advertised from v0, so librdkafka
// takes the v1 path kfake implements. Other clients get kfake's own answer.
// A client that really sends v0 is refused, as kfake refuses it anyway.

// librdkafkaSASL installs that answer on the cluster c listening at addr with
// tc (nil: plaintext).
func librdkafkaSASL(ctx context.Context, c *kfake.Cluster, addr string, tc *tls.Config) error {
	template, err := apiVersions(ctx, addr, tc)
	if err != nil {
		return fmt.Errorf("embedded broker: reading its own ApiVersions: %w", err)
	}
	for i := range template.ApiKeys {
		if template.ApiKeys[i].ApiKey == int16(kmsg.SASLHandshake) {
			template.ApiKeys[i].MinVersion = 0
		}
	}
	c.ControlKey(int16(kmsg.ApiVersions), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req, ok := kr.(*kmsg.ApiVersionsRequest)
		if !ok || !strings.HasPrefix(req.ClientSoftwareName, "librdkafka") || req.Version > template.Version || req.Version < 3 {
			return nil, nil, false // kfake answers
		}
		resp := *template
		resp.Version = req.Version
		resp.ApiKeys = slices.Clone(template.ApiKeys)
		return &resp, nil, true
	})
	return nil
}

// apiVersions asks the broker at addr for its ApiVersions, before any
// authentication (which ApiVersions does not need).
func apiVersions(ctx context.Context, addr string, tc *tls.Config) (*kmsg.ApiVersionsResponse, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(addr)}
	if tc != nil {
		// Our own listener on loopback: its certificate is not verified, and
		// nothing but an ApiVersions request is sent.
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // see above
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "gofka", "1"
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return nil, err
	}
	r := resp.(*kmsg.ApiVersionsResponse)
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return nil, err
	}
	return r, nil
}
