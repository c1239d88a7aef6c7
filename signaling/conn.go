package signaling

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is a message connection to one client: a WebSocket in production, an in-memory
// pipe in tests and in-process clients. The hub reads from one goroutine and writes
// from another.
type Conn interface {
	// ReadMessage returns the next whole message.
	ReadMessage() ([]byte, error)
	// WriteMessage sends one whole message.
	WriteMessage(msg []byte) error
	// Ping sends a transport keepalive, if the transport has one.
	Ping() error
	// SetReadDeadline bounds the current and next ReadMessage calls.
	SetReadDeadline(t time.Time) error
	// SetWriteDeadline bounds the next WriteMessage and Ping calls.
	SetWriteDeadline(t time.Time) error
	// Close closes the connection; blocked calls return errors.
	Close() error
}

// aborter is implemented by connections that can be closed at once, without the
// orderly goodbye Close may wait to send.
type aborter interface {
	Abort() error
}

// ErrMessageTooLarge is returned by a Conn's ReadMessage for a message over the limit.
var ErrMessageTooLarge = errors.New("message too large")

// wsConn adapts a gorilla WebSocket. Any frame received, pongs included, extends the
// read deadline by idle.
type wsConn struct {
	ws   *websocket.Conn
	idle time.Duration
	once sync.Once
}

// NewWebSocketConn adapts a WebSocket connection (client or server side) to Conn.
// When idle > 0, every pong received pushes the read deadline idle into the future.
func NewWebSocketConn(ws *websocket.Conn, idle time.Duration) Conn {
	c := &wsConn{ws: ws, idle: idle}
	if idle > 0 {
		ws.SetPongHandler(func(string) error {
			return ws.SetReadDeadline(time.Now().Add(idle))
		})
	}
	return c
}

func (c *wsConn) ReadMessage() ([]byte, error) {
	for {
		typ, msg, err := c.ws.ReadMessage()
		if errors.Is(err, websocket.ErrReadLimit) {
			return nil, ErrMessageTooLarge
		}
		if err != nil {
			return nil, err
		}
		if typ == websocket.TextMessage || typ == websocket.BinaryMessage {
			return msg, nil
		}
	}
}

func (c *wsConn) WriteMessage(msg []byte) error {
	return c.ws.WriteMessage(websocket.TextMessage, msg)
}

func (c *wsConn) Ping() error {
	return c.ws.WriteMessage(websocket.PingMessage, nil)
}

func (c *wsConn) SetReadDeadline(t time.Time) error  { return c.ws.SetReadDeadline(t) }
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }

// Abort closes the network connection at once.
func (c *wsConn) Abort() error {
	return c.ws.NetConn().Close()
}

func (c *wsConn) Close() error {
	var err error
	c.once.Do(func() {
		c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(time.Second))
		err = c.ws.Close()
	})
	return err
}

// Pipe returns the two ends of an in-memory message connection, like net.Pipe but
// carrying whole messages with a small buffer each way.
func Pipe() (Conn, Conn) {
	ab := make(chan []byte, 64)
	ba := make(chan []byte, 64)
	done := make(chan struct{})
	once := new(sync.Once)
	a := &pipeConn{in: ba, out: ab, done: done, once: once}
	b := &pipeConn{in: ab, out: ba, done: done, once: once}
	return a, b
}

type pipeConn struct {
	in   <-chan []byte
	out  chan<- []byte
	done chan struct{}
	once *sync.Once

	mu                      sync.Mutex // guards the deadlines
	readDeadline, writeDead time.Time
}

var errPipeClosed = net.ErrClosed

func (p *pipeConn) ReadMessage() ([]byte, error) {
	timeout, stop := p.timer(&p.readDeadline)
	defer stop()
	select {
	case m := <-p.in:
		return m, nil
	case <-p.done:
		// Deliver what was sent before the close.
		select {
		case m := <-p.in:
			return m, nil
		default:
			return nil, errPipeClosed
		}
	case <-timeout:
		return nil, os.ErrDeadlineExceeded
	}
}

func (p *pipeConn) WriteMessage(msg []byte) error {
	timeout, stop := p.timer(&p.writeDead)
	defer stop()
	select {
	case <-p.done:
		return errPipeClosed
	default:
	}
	select {
	case p.out <- append([]byte(nil), msg...):
		return nil
	case <-p.done:
		return errPipeClosed
	case <-timeout:
		return os.ErrDeadlineExceeded
	}
}

func (p *pipeConn) timer(d *time.Time) (<-chan time.Time, func()) {
	p.mu.Lock()
	deadline := *d
	p.mu.Unlock()
	if deadline.IsZero() {
		return nil, func() {}
	}
	t := time.NewTimer(time.Until(deadline))
	return t.C, func() { t.Stop() }
}

func (p *pipeConn) Ping() error { return nil }

func (p *pipeConn) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readDeadline = t
	return nil
}

func (p *pipeConn) SetWriteDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writeDead = t
	return nil
}

func (p *pipeConn) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}
