package signaling_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

// consoleOf returns the grants of the n'th console of the person whose seat in the
// room has grants g, as the join endpoint makes them.
func consoleOf(g signaling.Grants, n int) signaling.Grants {
	g.Identity = fmt.Sprintf("%s/console-%d", g.Identity, n)
	g.Console, g.Hidden, g.CanPublish = true, true, false
	return g
}

// identities lists the identities of participants.
func identities(ps []signaling.Participant) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Identity)
	}
	return out
}

// TestConsoleBesideTheSeat: a chair sits in the room on camera and runs the meeting
// from the console at once, with a second console open too. Every connection stays
// up; the consoles are in nobody's participant list, are sent no media, cannot publish
// or ask to speak, and use the chair's controls; only the seat is reported present.
func TestConsoleBesideTheSeat(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	seatG := grants("user-7", signaling.RoleChair)
	seatG.UserID = 7
	seat := e.join(ctx, seatG, client.Options{})
	publish(ctx, t, seat)
	miaRec := newRecorder()
	mia := e.join(ctx, member("mia", 21), client.Options{OnTrack: miaRec.onTrack})
	ids := tracksOf(ctx, t, mia, "user-7", 2)
	miaRec.waitPackets(ctx, t, "mia", ids[signaling.KindVideo], 10)

	consoleRec := newRecorder()
	console := e.join(ctx, consoleOf(seatG, 1), client.Options{OnTrack: consoleRec.onTrack})
	j := console.Joined()
	if j.Resumed || j.Self == nil || j.Self.Identity != "user-7/console-1" {
		t.Errorf("the console joined as %+v (resumed %v), want a new participant user-7/console-1", j.Self, j.Resumed)
	}
	if got, want := identities(j.Participants), []string{"user-7", "mia"}; !slices.Equal(got, want) {
		t.Errorf("the console sees participants %v, want %v", got, want)
	}
	if want := (signaling.Receive{}); j.Receive == nil || *j.Receive != want {
		t.Errorf("joined says the console receives %+v, want %+v", j.Receive, want)
	}
	if len(j.Tracks) != 2 {
		t.Errorf("the console is told of %d tracks, want the seat's 2", len(j.Tracks))
	}
	second := e.join(ctx, consoleOf(seatG, 2), client.Options{})
	max := e.join(ctx, member("max", 22), client.Options{})
	if got, want := identities(max.Joined().Participants), []string{"user-7", "mia", "max"}; !slices.Equal(got, want) {
		t.Errorf("a member joining later sees participants %v, want %v", got, want)
	}

	// Media goes on flowing to mia, none of it to the console.
	miaRec.waitPackets(ctx, t, "mia", ids[signaling.KindVideo], miaRec.count(ids[signaling.KindVideo])+60)
	miaRec.waitPackets(ctx, t, "mia", ids[signaling.KindAudio], miaRec.count(ids[signaling.KindAudio])+30)
	if got := consoleRec.total(); got != 0 {
		t.Errorf("the console got %d packets, want none", got)
	}

	// The chair's controls, from the console.
	floorIs := func(id string) func(signaling.ServerMessage) bool {
		return func(m signaling.ServerMessage) bool {
			return m.Type == signaling.MsgFloor && ((id == "" && m.Floor == nil) || (m.Floor != nil && m.Floor.Identity == id))
		}
	}
	send := func(c *client.Client, m signaling.ClientMessage) int {
		t.Helper()
		mark := c.Mark()
		if err := c.Send(m); err != nil {
			t.Fatalf("send %s: %v", m.Type, err)
		}
		return mark
	}
	await := func(c *client.Client, from int, what string, match func(signaling.ServerMessage) bool) {
		t.Helper()
		if _, _, err := c.Wait(ctx, from, match); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	refused := func(c *client.Client, m signaling.ClientMessage, code string) {
		t.Helper()
		mark := send(c, m)
		got, _, err := c.Wait(ctx, mark, func(r signaling.ServerMessage) bool { return r.Ref == m.ID })
		if err != nil {
			t.Fatalf("waiting for the answer to %s: %v", m.ID, err)
		}
		if got.Type != signaling.MsgError || got.Code != code {
			t.Errorf("%s: got %s %q (%s), want error %q", m.ID, got.Type, got.Code, got.Message, code)
		}
	}

	from := mia.Mark()
	send(console, signaling.ClientMessage{Type: signaling.MsgGrantFloor, ID: "grant", Identity: "mia", ItemID: 3})
	await(mia, from, "mia to be given the floor", floorIs("mia"))
	await(seat, 0, "the seat to see mia's floor", floorIs("mia"))

	from = mia.Mark()
	send(console, signaling.ClientMessage{Type: signaling.MsgMuteParticipant, ID: "mute", Identity: "mia"})
	await(mia, from, "mia to be muted", func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgParticipantUpdated && m.Participant.Identity == "mia" && m.Participant.AudioMuted
	})

	// Everyone's video off: but not the chair's own, in their seat.
	from = mia.Mark()
	send(console, signaling.ClientMessage{Type: signaling.MsgMuteAll, ID: "mute-all", Kind: signaling.KindVideo})
	send(console, signaling.ClientMessage{Type: signaling.MsgWithdrawFloor, ID: "withdraw"})
	await(mia, from, "the floor to be taken back", floorIs(""))
	var videoOff []string
	for _, m := range mia.Messages()[from:] {
		if m.Type == signaling.MsgParticipantUpdated && m.Participant.VideoMuted {
			videoOff = append(videoOff, m.Participant.Identity)
		}
	}
	slices.Sort(videoOff)
	videoOff = slices.Compact(videoOff)
	if want := []string{"max", "mia"}; !slices.Equal(videoOff, want) {
		t.Errorf("mute_all from the chair's console turned off the video of %v, want %v", videoOff, want)
	}

	// The console lowers the chair's own hand, raised from the seat.
	from = console.Mark()
	send(seat, signaling.ClientMessage{Type: signaling.MsgRaiseHand, ID: "hand"})
	await(console, from, "the seat's hand", func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgHands && len(m.Hands) == 1 && m.Hands[0].Identity == "user-7"
	})
	from = seat.Mark()
	send(console, signaling.ClientMessage{Type: signaling.MsgLowerHand, ID: "lower", Identity: "user-7"})
	await(seat, from, "the hand to be lowered", func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgHands && len(m.Hands) == 0
	})

	// A console is not a seat: no hand, no floor, no media.
	refused(console, signaling.ClientMessage{Type: signaling.MsgRaiseHand, ID: "console-hand"}, signaling.CodeForbidden)
	refused(seat, signaling.ClientMessage{Type: signaling.MsgGrantFloor, ID: "console-floor", Identity: "user-7/console-2"}, signaling.CodeForbidden)
	mic, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "console")
	if err != nil {
		t.Fatal(err)
	}
	var se *client.ServerError
	if _, err := second.Publish(ctx, mic); !errors.As(err, &se) || se.Code != signaling.CodePublishNotAllowed {
		t.Errorf("a console publishing: got %v, want %s", err, signaling.CodePublishNotAllowed)
	}

	// Nobody heard of the consoles, and every connection is still up: the seat still
	// sends, the first console still runs the room.
	for name, c := range map[string]*client.Client{"the seat": seat, "mia": mia, "max": max} {
		for _, m := range c.Messages() {
			switch {
			case m.Type == signaling.MsgClosed:
				t.Errorf("%s was closed: %s", name, m.Reason)
			case m.Participant != nil && m.Participant.Identity != "user-7" && m.Participant.Identity != "mia" && m.Participant.Identity != "max",
				m.Type == signaling.MsgParticipantLeft && m.Identity != "max":
				t.Errorf("%s was told of another participant: %s %+v %s", name, m.Type, m.Participant, m.Identity)
			}
		}
	}
	for name, c := range map[string]*client.Client{"the seat": seat, "the first console": console, "the second console": second} {
		select {
		case <-c.Done():
			t.Errorf("%s's connection ended", name)
		default:
		}
	}
	miaRec.waitPackets(ctx, t, "mia", ids[signaling.KindAudio], miaRec.count(ids[signaling.KindAudio])+30)
	from = mia.Mark()
	send(console, signaling.ClientMessage{Type: signaling.MsgGrantFloor, ID: "grant-again", Identity: "mia", ItemID: 3})
	await(mia, from, "mia to be given the floor again", floorIs("mia"))

	// The consoles leave; then max, whose leaving, reported after theirs would be,
	// shows that presence has heard all there is to hear.
	for _, c := range []*client.Client{console, second, max} {
		if err := c.Leave(ctx); err != nil {
			t.Fatalf("leave: %v", err)
		}
	}
	waitFor(ctx, t, "max's leaving to be reported", func() bool { return slices.Contains(e.presence.list(), "leave 1/22") })
	if got, want := e.presence.list(), []string{"join 1/7", "join 1/21", "join 1/22", "leave 1/22"}; !slices.Equal(got, want) {
		t.Errorf("presence heard %v, want %v: the consoles are nobody's attendance", got, want)
	}
}

// TestConsoleReplacesNothing: a seat and a console never take each other's place,
// even under one identity; a console joining again with the same token takes over its
// own earlier connection only.
func TestConsoleReplacesNothing(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	seatG := grants("user-7", signaling.RoleChair)
	seatG.UserID = 7
	seat := e.join(ctx, seatG, client.Options{})
	clash := consoleOf(seatG, 1)
	clash.Identity = seatG.Identity
	_, err := client.Join(ctx, e.connect(), client.Options{Token: e.token(clash), API: e.api})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != signaling.CodeForbidden {
		t.Errorf("a console under the seat's identity: got %v, want %s", err, signaling.CodeForbidden)
	}

	g := consoleOf(seatG, 1)
	old := e.join(ctx, g, client.Options{})
	again := e.join(ctx, g, client.Options{})
	if m, _, err := old.WaitType(ctx, 0, signaling.MsgClosed); err != nil || m.Reason != signaling.ReasonReplaced {
		t.Errorf("the console's earlier connection: got %+v %v, want closed (replaced)", m, err)
	}
	if !again.Joined().Resumed {
		t.Errorf("the console's new connection did not take over its earlier one")
	}
	seatOver := seatG
	seatOver.Identity = g.Identity
	_, err = client.Join(ctx, e.connect(), client.Options{Token: e.token(seatOver), API: e.api})
	if !errors.As(err, &se) || se.Code != signaling.CodeForbidden {
		t.Errorf("a seat under the console's identity: got %v, want %s", err, signaling.CodeForbidden)
	}
	for _, m := range seat.Messages() {
		if m.Type == signaling.MsgClosed {
			t.Errorf("the seat was closed: %s", m.Reason)
		}
	}
}
