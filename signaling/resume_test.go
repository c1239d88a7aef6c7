package signaling_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

func TestDroppedMemberResumesWithRoleFloorAndHand(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	chair := e.join(ctx, grants("chair", signaling.RoleChair), client.Options{})
	dave := e.join(ctx, member("dave", 14), client.Options{})
	chair.Send(signaling.ClientMessage{Type: signaling.MsgGrantFloor, Identity: "dave"})
	if _, _, err := dave.WaitType(ctx, 0, signaling.MsgFloor); err != nil {
		t.Fatal(err)
	}
	dave.Send(signaling.ClientMessage{Type: signaling.MsgRaiseHand})
	dave.Send(signaling.ClientMessage{Type: signaling.MsgMute, Kind: signaling.KindVideo})
	if _, _, err := chair.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgParticipantUpdated && m.Participant.Identity == "dave" &&
			m.Participant.HandRaised && m.Participant.HasFloor && m.Participant.VideoMuted
	}); err != nil {
		t.Fatalf("chair: waiting for dave's floor, hand and mute: %v", err)
	}
	e.hub.Deliver(ctx, e.journal.append("item.opened", false, map[string]int{"item_id": 1}))
	m, _, err := dave.WaitType(ctx, 0, signaling.MsgMeetingEvent)
	if err != nil {
		t.Fatal(err)
	}
	lastSeq, resume := m.Seq, dave.Joined().ResumeToken

	// The connection drops; the room waits and meanwhile the meeting goes on.
	mark := chair.Mark()
	dave.Close()
	if _, _, err := chair.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgParticipantUpdated && m.Participant.Identity == "dave" && !m.Participant.Connected
	}); err != nil {
		t.Fatalf("chair: waiting to hear dave dropped: %v", err)
	}
	missed := []signaling.MeetingEvent{
		e.journal.append("motion.moved", false, map[string]string{"text": "That the report be noted"}),
		e.journal.append("poll.opened", false, map[string]int{"poll_id": 3}),
	}
	for _, ev := range missed {
		e.hub.Deliver(ctx, ev)
	}

	again, err := client.Join(ctx, e.connect(), client.Options{Resume: resume, LastSeq: lastSeq, API: e.api})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	defer again.Close()
	j := again.Joined()
	if !j.Resumed || j.Self.Role != signaling.RoleMember || !j.Self.HasFloor || !j.Self.HandRaised || !j.Self.VideoMuted {
		t.Errorf("resumed as %+v (resumed %v), want member with floor, hand and video muted", *j.Self, j.Resumed)
	}
	if j.Floor == nil || j.Floor.Identity != "dave" {
		t.Errorf("floor after resume = %+v, want dave", j.Floor)
	}
	if j.ResumeToken == "" || j.ResumeToken == resume {
		t.Errorf("resume token after resume is empty or unchanged")
	}
	var seqs []int64
	for _, ev := range missed {
		m, _, err := again.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
			return m.Type == signaling.MsgMeetingEvent && m.Event.Seq == ev.Seq
		})
		if err != nil {
			t.Fatalf("replay of event %d: %v", ev.Seq, err)
		}
		seqs = append(seqs, m.Event.Seq)
	}
	if want := []int64{2, 3}; !slices.Equal(seqs, want) {
		t.Errorf("replayed seqs %v, want %v", seqs, want)
	}
	if err := again.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chair.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "rooms to close", func() bool { return len(e.hub.Rooms()) == 0 })
	want := []string{"join 1/14", "leave 1/14"}
	waitFor(ctx, t, "presence calls", func() bool { return len(e.presence.list()) >= len(want) })
	if got := e.presence.list(); !slices.Equal(got, want) {
		t.Errorf("presence calls = %q, want %q (no leave and join for the resume)", got, want)
	}
}

func TestResumeWindowExpires(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.Limits.ResumeWindow = 300 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	chair := e.join(ctx, grants("chair", signaling.RoleChair), client.Options{})
	dave := e.join(ctx, member("dave", 14), client.Options{})
	resume := dave.Joined().ResumeToken
	mark := chair.Mark()
	dave.Close()
	m, _, err := chair.WaitType(ctx, mark, signaling.MsgParticipantLeft)
	if err != nil {
		t.Fatalf("chair: waiting for dave to leave: %v", err)
	}
	if m.Identity != "dave" || m.Reason != signaling.ReasonTimeout {
		t.Errorf("participant_left = %q %q, want dave %q", m.Identity, m.Reason, signaling.ReasonTimeout)
	}
	_, err = client.Join(ctx, e.connect(), client.Options{Resume: resume, API: e.api})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != signaling.CodeResumeFailed {
		t.Errorf("late resume: got %v, want a %s error", err, signaling.CodeResumeFailed)
	}
}

func TestSecondConnectionReplacesFirst(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	chair := e.join(ctx, grants("chair", signaling.RoleChair), client.Options{})
	first := e.join(ctx, member("dave", 14), client.Options{})
	first.Send(signaling.ClientMessage{Type: signaling.MsgRaiseHand})
	if _, _, err := chair.WaitType(ctx, 0, signaling.MsgHands); err != nil {
		t.Fatal(err)
	}
	second := e.join(ctx, member("dave", 14), client.Options{})

	m, _, err := first.WaitType(ctx, 0, signaling.MsgClosed)
	if err != nil {
		t.Fatalf("first connection: waiting for closed: %v", err)
	}
	if m.Reason != signaling.ReasonReplaced {
		t.Errorf("first connection closed with %q, want %q", m.Reason, signaling.ReasonReplaced)
	}
	select {
	case <-first.Done():
	case <-ctx.Done():
		t.Fatal("first connection still open")
	}
	if j := second.Joined(); !j.Resumed || !j.Self.HandRaised {
		t.Errorf("second connection joined as %+v (resumed %v), want the same participant with hand raised", *j.Self, j.Resumed)
	}
	var daves int
	for _, p := range second.Joined().Participants {
		if p.Identity == "dave" {
			daves++
		}
	}
	if daves != 1 {
		t.Errorf("participant list has %d daves, want 1", daves)
	}
	for _, m := range chair.Messages() {
		if m.Type == signaling.MsgParticipantLeft {
			t.Errorf("chair was told %s left", m.Identity)
		}
	}
	waitFor(ctx, t, "presence calls", func() bool { return len(e.presence.list()) >= 1 })
	if got, want := e.presence.list(), []string{"join 1/14"}; !slices.Equal(got, want) {
		t.Errorf("presence calls = %q, want %q", got, want)
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
