package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

// fakeBallots takes ballots whose "choice" is "for" and refuses the rest; "slow"
// ballots wait until released.
type fakeBallots struct {
	mu      sync.Mutex
	cast    []string // identity: ballot, as received
	release chan struct{}
}

func (b *fakeBallots) Cast(ctx context.Context, g signaling.Grants, ballot json.RawMessage) (json.RawMessage, error) {
	var v struct{ Choice string }
	if err := json.Unmarshal(ballot, &v); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.cast = append(b.cast, g.Identity+": "+string(ballot))
	n := len(b.cast)
	b.mu.Unlock()
	switch v.Choice {
	case "for":
		return json.RawMessage(fmt.Sprintf(`{"index":%d}`, n)), nil
	case "absent":
		return nil, &signaling.CastError{Code: signaling.CodeNotEligible, Reason: "absent", Message: "not present when the poll opened"}
	case "slow":
		select {
		case <-b.release:
		case <-ctx.Done():
		}
		return json.RawMessage(`{"index":0}`), nil
	}
	return nil, fmt.Errorf("the database is down")
}

func (b *fakeBallots) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.cast...)
}

func TestCastOverTheConnection(t *testing.T) {
	ballots := &fakeBallots{release: make(chan struct{})}
	e := newEnv(t, func(c *signaling.Config) { c.Ballots = ballots })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mia := e.join(ctx, member("mia", 21), client.Options{})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{})

	send := func(c *client.Client, id, ballot string) signaling.ServerMessage {
		t.Helper()
		mark := c.Mark()
		if err := c.SendRaw([]byte(`{"type":"cast","id":"` + id + `","ballot":` + ballot + `}`)); err != nil {
			t.Fatal(err)
		}
		m, _, err := c.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Ref == id })
		if err != nil {
			t.Fatalf("waiting for the answer to %s: %v", id, err)
		}
		return m
	}

	m := send(mia, "c1", `{ "choice" : "for" }`)
	if m.Type != signaling.MsgReceipt || string(m.Receipt) != `{"index":1}` {
		t.Errorf("cast: got %s %s %q, want a receipt", m.Type, m.Receipt, m.Code)
	}
	if got := ballots.received(); len(got) != 1 || got[0] != `mia: {"choice":"for"}` {
		t.Errorf("the ballots were given %q", got)
	}
	m = send(mia, "c2", `{"choice":"absent"}`)
	if m.Type != signaling.MsgError || m.Code != signaling.CodeNotEligible || m.Reason != "absent" {
		t.Errorf("ineligible: got %s %q reason %q", m.Type, m.Code, m.Reason)
	}
	m = send(mia, "c3", `{"choice":"down"}`)
	if m.Type != signaling.MsgError || m.Code != signaling.CodeUnavailable {
		t.Errorf("failure: got %s %q, want unavailable", m.Type, m.Code)
	}
	m = send(obs, "c4", `{"choice":"for"}`)
	if m.Type != signaling.MsgError || m.Code != signaling.CodeForbidden {
		t.Errorf("observer: got %s %q, want forbidden", m.Type, m.Code)
	}
	mark := mia.Mark()
	if err := mia.SendRaw([]byte(`{"type":"cast","id":"c5","ballot":"for"}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mia.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgError && m.Code == signaling.CodeBadMessage
	}); err != nil {
		t.Errorf("a ballot that is not an object: %v, want bad_message", err)
	}

	// Slow ballots do not hold up the connection, and only so many may be on their way.
	marks := mia.Mark()
	for i := range 5 {
		if err := mia.SendRaw([]byte(fmt.Sprintf(`{"type":"cast","id":"s%d","ballot":{"choice":"slow"}}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	m, _, err := mia.Wait(ctx, marks, func(m signaling.ServerMessage) bool { return m.Ref == "s4" })
	if err != nil || m.Code != signaling.CodeRateLimited {
		t.Errorf("a fifth slow ballot: got %+v %v, want rate_limited", m, err)
	}
	if err := mia.Send(signaling.ClientMessage{Type: signaling.MsgPing, ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mia.Wait(ctx, marks, func(m signaling.ServerMessage) bool { return m.Type == signaling.MsgPong }); err != nil {
		t.Errorf("no pong while ballots are on their way: %v", err)
	}
	close(ballots.release)
	for i := range 4 {
		id := fmt.Sprintf("s%d", i)
		if m, _, err := mia.Wait(ctx, marks, func(m signaling.ServerMessage) bool { return m.Ref == id }); err != nil || m.Type != signaling.MsgReceipt {
			t.Errorf("slow ballot %s: got %+v %v", id, m, err)
		}
	}
}

func TestCastWithoutBallots(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mia := e.join(ctx, member("mia", 21), client.Options{})
	mark := mia.Mark()
	if err := mia.SendRaw([]byte(`{"type":"cast","id":"c","ballot":{}}`)); err != nil {
		t.Fatal(err)
	}
	m, _, err := mia.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Ref == "c" })
	if err != nil || m.Code != signaling.CodeUnavailable {
		t.Errorf("got %+v %v, want unavailable", m, err)
	}
}
