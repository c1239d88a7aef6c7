package signaling

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// connection is one client's signalling connection. Its reader is the goroutine in
// Hub.Accept; its writer drains a bounded queue, and a client too slow to keep the
// queue from filling is dropped.
type connection struct {
	hub     *Hub
	conn    Conn
	log     *slog.Logger
	send    chan []byte
	quit    chan struct{} // closed to stop the writer (after flushing, unless aborted)
	once    sync.Once
	aborted atomic.Bool
	done    chan struct{} // closed when the writer has stopped
	limiter *rate.Limiter

	room     *room // set before the join is posted
	peer     *peer
	identity string
	p        *participant // owned by the room goroutine
	// grants are the participant's when the room admitted this connection; set by the
	// room before the join is answered, read by the reader after.
	grants Grants
	casts  chan struct{} // ballots on their way (castsInFlight at most)
}

func newConnection(h *Hub, conn Conn) *connection {
	return &connection{
		hub:     h,
		conn:    conn,
		log:     h.log,
		send:    make(chan []byte, h.limits.SendQueue),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		limiter: rate.NewLimiter(rate.Limit(h.limits.MessageRate), h.limits.MessageBurst),
		casts:   make(chan struct{}, castsInFlight),
	}
}

// joinRequest is a verified join message.
type joinRequest struct {
	ref       string
	meetingID int64
	grants    *Grants // from the join token; nil for a resume-only join
	identity  string
	session   string // from the resume token, if any
	lastSeq   int64
}

var (
	errRateLimited = errors.New("rate limit exceeded")
	errTooLarge    = errors.New("message too large")
)

// readJoin reads and verifies the first message, which must be a join.
func (c *connection) readJoin() (joinRequest, error) {
	limits := c.hub.limits
	c.conn.SetReadDeadline(time.Now().Add(limits.JoinTimeout))
	b, err := c.conn.ReadMessage()
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.sendError("", CodeNotJoined, "no join message within %s", limits.JoinTimeout)
		return joinRequest{}, fmt.Errorf("read join: %w", err)
	case errors.Is(err, ErrMessageTooLarge):
		c.sendError("", CodeMessageTooLarge, "messages are limited to %d bytes", limits.MaxMessageSize)
		return joinRequest{}, fmt.Errorf("read join: %w", err)
	case err != nil:
		return joinRequest{}, fmt.Errorf("read join: %w", err)
	case int64(len(b)) > limits.MaxMessageSize:
		c.sendError("", CodeMessageTooLarge, "message of %d bytes exceeds the limit of %d bytes", len(b), limits.MaxMessageSize)
		return joinRequest{}, errTooLarge
	}
	m, err := DecodeClientMessage(b)
	if err != nil {
		c.sendError(m.ID, CodeBadMessage, "%v", err)
		return joinRequest{}, err
	}
	if m.Type != MsgJoin {
		c.sendError(m.ID, CodeNotJoined, "the first message must be join, not %s", m.Type)
		return joinRequest{}, fmt.Errorf("first message %s, not join", m.Type)
	}
	if m.V != ProtocolVersion {
		c.sendError(m.ID, CodeUnsupportedVersion, "this server speaks protocol version %d, not %d", ProtocolVersion, m.V)
		return joinRequest{}, fmt.Errorf("protocol version %d", m.V)
	}
	req := joinRequest{ref: m.ID, lastSeq: m.LastSeq}
	if m.Resume != "" {
		meetingID, identity, session, err := c.hub.tokens.VerifyResume(m.Resume)
		if err != nil && m.Token == "" {
			c.sendError(m.ID, CodeResumeFailed, "resume token: %v", err)
			return joinRequest{}, fmt.Errorf("resume token: %w", err)
		}
		if err == nil {
			req.meetingID, req.identity, req.session = meetingID, identity, session
		}
	}
	if m.Token != "" {
		g, err := c.hub.tokens.Verify(m.Token)
		switch {
		case errors.Is(err, ErrTokenExpired) && req.session == "":
			c.sendError(m.ID, CodeTokenExpired, "the join token has expired")
			return joinRequest{}, err
		case err != nil && req.session == "":
			c.sendError(m.ID, CodeUnauthorized, "the join token is not valid")
			return joinRequest{}, err
		case err == nil:
			if req.session != "" && (req.meetingID != g.MeetingID || req.identity != g.Identity) {
				req.session = "" // a resume token for someone else: ignore it
			}
			req.grants = &g
			req.meetingID, req.identity = g.MeetingID, g.Identity
		}
	}
	return req, nil
}

// readLoop reads client messages until the connection ends or the client leaves.
func (c *connection) readLoop() error {
	limits := c.hub.limits
	denied := 0
	for {
		c.conn.SetReadDeadline(time.Now().Add(limits.PongWait))
		b, err := c.conn.ReadMessage()
		if errors.Is(err, ErrMessageTooLarge) {
			c.sendError("", CodeMessageTooLarge, "messages are limited to %d bytes", limits.MaxMessageSize)
			return err
		}
		if err != nil {
			if isClosedErr(err) {
				return nil
			}
			return err
		}
		if int64(len(b)) > limits.MaxMessageSize {
			c.sendError("", CodeMessageTooLarge, "message of %d bytes exceeds the limit of %d bytes", len(b), limits.MaxMessageSize)
			return errTooLarge
		}
		if !c.limiter.Allow() {
			denied++
			if denied == 1 || denied%20 == 0 {
				c.sendError("", CodeRateLimited, "more than %g messages a second: message dropped", limits.MessageRate)
			}
			if denied > 3*limits.MessageBurst {
				c.sendError("", CodeRateLimited, "too many messages: closing")
				return errRateLimited
			}
			continue
		}
		m, err := DecodeClientMessage(b)
		if err != nil {
			c.sendError(m.ID, CodeBadMessage, "%v", err)
			continue
		}
		switch m.Type {
		case MsgJoin:
			c.sendError(m.ID, CodeAlreadyJoined, "this connection has already joined")
		case MsgPing:
			c.sendMsg(&ServerMessage{Type: MsgPong, Ref: m.ID, Time: c.hub.now().UnixMilli()})
		case MsgAnswer:
			c.peer.post(func() { c.peer.handleAnswer(m) })
		case MsgCandidate:
			c.peer.post(func() { c.peer.handleCandidate(m) })
		case MsgCast:
			c.cast(m)
		case MsgLeave:
			c.room.post(func() { c.room.leave(c) })
			return nil
		default:
			c.room.post(func() { c.room.handle(c, m) })
		}
	}
}

// writeLoop writes queued messages and pings until the connection is closed.
func (c *connection) writeLoop() {
	defer c.hub.wg.Done()
	defer close(c.done)
	defer c.conn.Close()
	ping := time.NewTicker(c.hub.limits.PingInterval)
	defer ping.Stop()
	for {
		select {
		case b := <-c.send:
			if err := c.write(b); err != nil {
				return
			}
		case <-ping.C:
			c.conn.SetWriteDeadline(time.Now().Add(c.hub.limits.WriteWait))
			if err := c.conn.Ping(); err != nil {
				return
			}
		case <-c.quit:
			if c.aborted.Load() {
				return
			}
			for {
				select {
				case b := <-c.send:
					if err := c.write(b); err != nil {
						return
					}
				default:
					return
				}
			}
		}
	}
}

func (c *connection) write(b []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.limits.WriteWait))
	return c.conn.WriteMessage(b)
}

// sendMsg queues m, stamping it with the room's sequence number unless it has one.
func (c *connection) sendMsg(m *ServerMessage) bool {
	if m.Seq == 0 && c.room != nil {
		m.Seq = c.room.seq.Load()
	}
	return c.sendRaw(encode(m))
}

// sendRaw queues an encoded message. A client whose queue is full is dropped.
func (c *connection) sendRaw(b []byte) bool {
	select {
	case <-c.quit:
		return false
	default:
	}
	select {
	case c.send <- b:
		return true
	default:
		c.hub.metrics.droppedClients.Inc()
		c.log.Info("dropping slow client", "queue", len(c.send))
		c.abort()
		return false
	}
}

func (c *connection) sendError(ref, code, format string, args ...any) {
	c.hub.metrics.rejected.WithLabelValues(code).Inc()
	c.sendMsg(errorMessage(ref, code, format, args...))
}

// sendWrongNode tells the client that host runs the meeting's room, and where.
func (c *connection) sendWrongNode(ref string, host Node) {
	c.hub.metrics.rejected.WithLabelValues(CodeWrongNode).Inc()
	m := errorMessage(ref, CodeWrongNode, "the meeting's room is on another node: connect to %s", host.URL)
	m.URL = host.URL
	c.sendMsg(m)
}

// close flushes what is queued and closes the connection.
func (c *connection) close() {
	c.once.Do(func() { close(c.quit) })
}

// abort closes the connection at once, dropping what is queued. It never waits on
// the client, so the room may call it.
func (c *connection) abort() {
	c.aborted.Store(true)
	c.close()
	if a, ok := c.conn.(aborter); ok {
		a.Abort()
		return
	}
	c.conn.Close()
}

// wait waits for the writer to stop.
func (c *connection) wait() {
	<-c.done
}
