// Package kafkaconf turns the Kafka security flags into franz-go options, and
// tells a broker that refuses the settings from one that is only unreachable.
//
// # Flags
//
// Security.AddFlags adds them to a cobra (pflag) flag set, AddGoFlags to a
// standard library one (clickgen); Security.Options checks them, reads the
// files they name and returns kgo.DialTLSConfig and kgo.SASL:
//
//	--tls                            TLS with the system's roots; any other --tls-* flag turns TLS on
//	--tls-ca FILE                    CA certificates to verify the brokers with
//	--tls-cert FILE, --tls-key FILE  a client certificate (both or neither), read again when they change
//	--tls-server-name NAME           the name the brokers' certificates must hold
//	--sasl-mechanism M               PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM (any case)
//	--sasl-username USER             PLAIN and SCRAM
//	--sasl-password PW               or $GOFKA_SASL_PASSWORD, or --sasl-password-file FILE (first line)
//	--sasl-oauth-token-file FILE     OAUTHBEARER: a token, read again when the file's mtime or size changes
//	--sasl-oauth-token-url URL       OAUTHBEARER: client-credentials grant at URL, with
//	--sasl-oauth-client-id ID          the client id,
//	--sasl-oauth-client-secret-file    the secret (or $GOFKA_SASL_OAUTH_CLIENT_SECRET),
//	--sasl-oauth-scope "A B"           and the scopes
//
// An unknown mechanism is a flag error listing the valid ones. The password is
// looked for on the flag, then in the environment, then in the file, but two
// sources at once are refused rather than ranked: a password silently taken
// from the wrong place would show only as an authentication failure.
// AWS_MSK_IAM uses franz-go's sasl/aws with credentials from the AWS SDK's
// default chain (config.LoadDefaultConfig, which caches and refreshes them).
//
// The token endpoint is called with a small net/http POST (RFC 6749 section
// 4.4, client authenticated with HTTP Basic) rather than
// golang.org/x/oauth2/clientcredentials: x/oauth2 is in the module graph only
// as an indirect requirement of Prometheus' libraries, not downloaded, and the
// grant is one request. Tokens are kept until four fifths of their lifetime
// (at most a minute before the end); http:// is accepted only to a loopback
// address, since the client secret travels with each request.
//
// # Secrets
//
// The password and the client secret are unexported, the password behind a
// pointer, so that %v of a struct holding a Security prints an address;
// String and LogValue name where a secret came from, never its value; the
// password flag shows nothing as its value in --help, and its Set never fails
// (cobra would quote a rejected value in its error). Errors name flags and
// files, never contents; a token endpoint's error text is shown with the
// client secret replaced, should the endpoint echo it.
//
// # Failures
//
// franz-go retries an EOF from a broker, which is what a plaintext client on a
// TLS listener gets, and what kfake answers a wrong password with, so without
// help a misconfigured client retries for ever. A Watch (a kgo hook on every
// client) records how each connection attempt ended and which request failed
// while setting it up; hooks must not block, so it only records. Watch.Check,
// run before anything else, sends a Metadata request to each seed broker with
// a bounded wait and classifies a failure, probing the broker's address when
// that is the only way to know:
//
//	SASL authentication failed        kerr.SaslAuthenticationFailed (a real broker), or EOF on
//	                                  SaslHandshake/SaslAuthenticate (kfake closes the connection)
//	mechanism not enabled             kerr.UnsupportedSaslMechanism; a SaslHandshake without
//	                                  authenticating asks the broker which it offers
//	TLS handshake failed              x509.UnknownAuthorityError, x509.HostnameError, invalid or
//	                                  unverifiable certificates
//	broker refused the TLS handshake  a TLS alert from the broker (e.g. certificate required)
//	broker speaks TLS, client not     EOF (or an error) on ApiVersions over plaintext, and a TLS
//	                                  handshake to the same address completes
//	broker does not speak TLS         tls.RecordHeaderError, or EOF or a timeout on the TLS
//	                                  handshake and the broker answers a plaintext ApiVersions
//	broker requires SASL              EOF on the first request after ApiVersions, without SASL
//
// Those are *Error, which the engine returns at once ("error: broker
// 127.0.0.1:9093: SASL authentication failed: ..."); anything else
// (connection refused, timeouts) is an *UnreachableError, which the engine
// retries with backoff as before. During the run the same classification
// applies to new connections: Watch.Fatal reports a broker that refused three
// connection attempts in a row (a password rotated, a certificate expired),
// which ends the run, and Watch.Explain names the broker and the cause of an
// error a client returned.
package kafkaconf
