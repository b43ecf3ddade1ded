package coordinator

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// One TCP port carries Raft and the control RPCs. A dialer writes one byte
// naming the protocol first; the accepting side reads it (with a deadline,
// so a silent connection cannot hold a goroutine) and hands the connection to
// Raft's transport or to the control HTTP server. Consul and Nomad multiplex
// their RPC types the same way. With PeerTLS the connection is a TLS one
// whose handshake (which checks the dialer's certificate) comes first, then
// the accepting side's byte tlsAccepted: the protocol byte and everything
// after it travel inside TLS.
const (
	protoRaft    byte = 'R'
	protoControl byte = 'C'

	firstByteTimeout = 10 * time.Second
)

var errListenerClosed = errors.New("coordinator: listener closed")

// mux accepts connections on the shared listener and routes them.
type mux struct {
	ln     net.Listener
	addr   advertisedAddr
	tls    *PeerTLS // nil: plaintext
	log    *slog.Logger
	raft   *subListener
	ctrl   *subListener
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// advertisedAddr is the address the node tells others (a net.Addr, because
// Raft's transport reports its local address through the listener).
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

func newMux(ln net.Listener, advertise string, pt *PeerTLS, log *slog.Logger) *mux {
	m := &mux{ln: ln, addr: advertisedAddr(advertise), tls: pt, log: log, closed: make(chan struct{})}
	m.raft = &subListener{m: m, ch: make(chan net.Conn), closed: make(chan struct{})}
	m.ctrl = &subListener{m: m, ch: make(chan net.Conn), closed: make(chan struct{})}
	m.wg.Add(1)
	go m.serve()
	return m
}

func (m *mux) serve() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.log.Warn("coordinator: accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.route(c)
		}()
	}
}

// route completes the TLS handshake (with PeerTLS), reads the protocol byte
// and passes the connection on.
func (m *mux) route(c net.Conn) {
	if m.tls != nil {
		tc := tls.Server(c, m.tls.server())
		if err := m.tls.handshake(tc, m.log); err != nil {
			c.Close()
			return
		}
		c = tc
	}
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(firstByteTimeout))
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	var to *subListener
	switch b[0] {
	case protoRaft:
		to = m.raft
	case protoControl:
		to = m.ctrl
	default:
		m.log.Warn("coordinator: connection with an unknown protocol byte; closing it", "remote", c.RemoteAddr().String(), "byte", b[0])
		c.Close()
		return
	}
	select {
	case to.ch <- c:
	case <-to.closed:
		c.Close()
	case <-m.closed:
		c.Close()
	}
}

// close stops accepting and closes both sub-listeners.
func (m *mux) close() error {
	var err error
	m.once.Do(func() {
		close(m.closed)
		err = m.ln.Close()
		m.raft.Close()
		m.ctrl.Close()
	})
	m.wg.Wait()
	return err
}

// subListener is the net.Listener one protocol sees.
type subListener struct {
	m      *mux
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.ch:
		return c, nil
	case <-s.closed:
		return nil, errListenerClosed
	case <-s.m.closed:
		return nil, errListenerClosed
	}
}

func (s *subListener) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *subListener) Addr() net.Addr { return s.m.addr }

// raftLayer is the raft.StreamLayer over the shared port.
type raftLayer struct {
	*subListener
	tls *PeerTLS
}

var _ raft.StreamLayer = raftLayer{}

func (l raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return dialProto(ctx, l.tls, string(address), protoRaft)
}

// dialProto connects to addr (over TLS with pt) and writes the protocol byte.
func dialProto(ctx context.Context, pt *PeerTLS, addr string, proto byte) (net.Conn, error) {
	c, err := pt.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte{proto}); err != nil {
		c.Close()
		return nil, err
	}
	c.SetWriteDeadline(time.Time{})
	return c, nil
}
