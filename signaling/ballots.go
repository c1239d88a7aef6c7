package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Ballots takes the ballots members cast over their signalling connection, as they
// may over REST. The node (web/node) wires it to the voting service; signalling only
// carries the ballot and its receipt.
type Ballots interface {
	// Cast takes a signed ballot (the JSON object POST …/polls/{poll}/ballots takes)
	// from the participant with grants g, and returns its receipt (JSON) once the
	// ballot has committed. The same ballot again gets the same receipt. A refusal is
	// a *CastError; any other error means the ballot may not have been taken, and the
	// client should send the very same ballot again.
	Cast(ctx context.Context, g Grants, ballot json.RawMessage) (receipt json.RawMessage, err error)
}

// A CastError refuses a ballot: Code is one of the error codes (a cast code such as
// CodeNotEligible, or CodeForbidden, CodeNotFound), Reason a code that says more where
// there is one (why a voter is not eligible), Message the text for people.
type CastError struct {
	Code    string
	Reason  string
	Message string
}

func (e *CastError) Error() string {
	if e.Reason != "" {
		return e.Code + " (" + e.Reason + "): " + e.Message
	}
	return e.Code + ": " + e.Message
}

const (
	// castsInFlight bounds the ballots one connection may have on their way at once.
	castsInFlight = 4
	// castTimeout bounds taking one ballot. A cast that has started is not cancelled
	// when its connection drops: the client sends the same ballot again for its
	// receipt.
	castTimeout = 30 * time.Second
)

// cast takes a ballot on its own goroutine and answers with its receipt or an error,
// so that the connection keeps reading (answers, candidates, pings) meanwhile.
func (c *connection) cast(m ClientMessage) {
	ballots := c.hub.ballots
	switch {
	case ballots == nil:
		c.sendError(m.ID, CodeUnavailable, "this server does not take ballots over the live room: use the REST API")
		return
	case c.grants.UserID == 0:
		c.sendError(m.ID, CodeForbidden, "only members signed in to the meeting's room may vote")
		return
	}
	select {
	case c.casts <- struct{}{}:
	default:
		c.sendError(m.ID, CodeRateLimited, "%d ballots are already on their way: wait for their receipts", castsInFlight)
		return
	}
	g := c.grants
	c.hub.goTracked(func() {
		ctx, cancel := context.WithTimeout(context.Background(), castTimeout)
		receipt, err := ballots.Cast(ctx, g, m.Ballot)
		cancel()
		<-c.casts // before answering, so that a client that waits for it may send the next
		var ce *CastError
		switch {
		case errors.As(err, &ce):
			c.hub.metrics.rejected.WithLabelValues(ce.Code).Inc()
			c.sendMsg(&ServerMessage{Type: MsgError, Ref: m.ID, Code: ce.Code, Reason: ce.Reason, Message: ce.Message})
		case err != nil:
			c.log.Error("cast a ballot from the live room", "who", g, "err", err)
			c.sendError(m.ID, CodeUnavailable, "the ballot could not be taken now: send the same ballot again")
		default:
			c.sendMsg(&ServerMessage{Type: MsgReceipt, Ref: m.ID, Receipt: receipt})
		}
	})
}
