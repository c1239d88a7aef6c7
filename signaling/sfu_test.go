package signaling_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

func TestMediaReachesMembersAndObservers(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	alice := e.join(ctx, member("alice", 11), client.Options{})
	bobRec, obsRec := newRecorder(), newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{OnTrack: obsRec.onTrack})

	publish(ctx, t, alice)
	for _, tc := range []struct {
		who string
		c   *client.Client
		rec *recorder
	}{
		{"bob", bob, bobRec},
		{"observer", obs, obsRec},
	} {
		ids := tracksOf(ctx, t, tc.c, "alice", 2)
		tc.rec.waitPackets(ctx, t, tc.who, ids[signaling.KindAudio], 25)
		tc.rec.waitPackets(ctx, t, tc.who, ids[signaling.KindVideo], 25)
	}
	if got := e.counter("chamber_sfu_forwarded_packets_total"); got < 100 {
		t.Errorf("chamber_sfu_forwarded_packets_total = %v, want at least 100", got)
	}
}

func TestPrivateSessionExcludesObservers(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	alice := e.join(ctx, member("alice", 11), client.Options{})
	bobRec, obsRec := newRecorder(), newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{OnTrack: obsRec.onTrack})
	publish(ctx, t, alice)
	bobIDs := tracksOf(ctx, t, bob, "alice", 2)
	obsIDs := tracksOf(ctx, t, obs, "alice", 2)
	obsRec.waitPackets(ctx, t, "observer", obsIDs[signaling.KindVideo], 10)

	mark := obs.Mark()
	e.hub.Deliver(ctx, e.journal.append(signaling.EventSessionPrivate, false, map[string]int{"item_id": 4}))
	e.hub.Deliver(ctx, e.journal.append("item.exempt_detail", true, map[string]string{"title": "Contract award"}))
	e.hub.Deliver(ctx, e.journal.append("item.note", false, nil))

	m, _, err := obs.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Type == signaling.MsgSession })
	if err != nil {
		t.Fatalf("observer: waiting for session message: %v", err)
	}
	if m.Session != signaling.SessionPrivate || m.Message != signaling.PrivateSessionMessage {
		t.Errorf("observer's session message = %q %q, want %q %q", m.Session, m.Message, signaling.SessionPrivate, signaling.PrivateSessionMessage)
	}
	if _, _, err := obs.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgMeetingEvent && m.Event.Type == "item.note"
	}); err != nil {
		t.Fatalf("observer: public event during private session: %v", err)
	}
	// Packets already on the wire may still land; after that, nothing.
	time.Sleep(300 * time.Millisecond)
	before, bobBefore := obsRec.total(), bobRec.count(bobIDs[signaling.KindVideo])
	time.Sleep(time.Second)
	if got := obsRec.total() - before; got != 0 {
		t.Errorf("observer got %d RTP packets during private session, want 0", got)
	}
	if got := bobRec.count(bobIDs[signaling.KindVideo]) - bobBefore; got < 5 {
		t.Errorf("member got %d video packets during private session, want some", got)
	}
	for _, m := range obs.Messages()[mark:] {
		if m.Type == signaling.MsgMeetingEvent && m.Event.Private {
			t.Errorf("observer got private event %s (seq %d)", m.Event.Type, m.Event.Seq)
		}
	}
	if _, _, err := bob.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgMeetingEvent && m.Event.Type == "item.exempt_detail"
	}); err != nil {
		t.Errorf("member did not get the private event: %v", err)
	}

	mark = obs.Mark()
	e.hub.Deliver(ctx, e.journal.append(signaling.EventSessionPublic, false, nil))
	m, _, err = obs.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Type == signaling.MsgSession })
	if err != nil {
		t.Fatalf("observer: waiting for public session: %v", err)
	}
	if m.Session != signaling.SessionPublic || m.Message != "" {
		t.Errorf("observer's session message = %q %q, want %q and no message", m.Session, m.Message, signaling.SessionPublic)
	}
	resumed := obsRec.count(obsIDs[signaling.KindVideo])
	obsRec.waitPackets(ctx, t, "observer after private session", obsIDs[signaling.KindVideo], resumed+10)
	obsRec.waitPackets(ctx, t, "observer after private session", obsIDs[signaling.KindAudio], obsRec.count(obsIDs[signaling.KindAudio])+10)
}

func TestObserverMayNotPublish(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bob := e.join(ctx, member("bob", 12), client.Options{})
	mic := func() *webrtc.TrackLocalStaticRTP {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "obs")
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for _, tc := range []struct {
		name string
		try  func(c *client.Client) error
	}{
		{"by a publish request", func(c *client.Client) error {
			_, err := c.Publish(ctx, mic())
			return err
		}},
		{"by an offer", func(c *client.Client) error {
			if _, err := c.AddTrack(mic()); err != nil {
				t.Fatal(err)
			}
			return c.Negotiate(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := e.join(ctx, grants("obs-"+tc.name, signaling.RoleObserver), client.Options{})
			err := tc.try(obs)
			var se *client.ServerError
			if !errors.As(err, &se) || se.Code != signaling.CodePublishNotAllowed {
				t.Fatalf("observer's attempt to publish: got %v, want a %s error", err, signaling.CodePublishNotAllowed)
			}
		})
	}
	// The refusals left nothing behind: the member hears of no track.
	time.Sleep(200 * time.Millisecond)
	for _, m := range bob.Messages() {
		if m.Type == signaling.MsgTrackPublished {
			t.Errorf("member was told of track %+v", m.Track)
		}
	}
}

func TestPublicSpeakerNeedsTheFloorOnTheirItem(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	chair := e.join(ctx, grants("chair", signaling.RoleChair), client.Options{})
	bobRec := newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	sg := grants("objector-1", signaling.RoleSpeaker)
	sg.SpeakerItemID = 7
	speaker := e.join(ctx, sg, client.Options{})
	publish(ctx, t, speaker) // accepted, but not forwarded

	time.Sleep(300 * time.Millisecond)
	for _, m := range bob.Messages() {
		if m.Type == signaling.MsgTrackPublished {
			t.Fatalf("speaker's track published without the floor: %+v", m.Track)
		}
	}

	mark := chair.Mark()
	chair.Send(signaling.ClientMessage{Type: signaling.MsgGrantFloor, ID: "g1", Identity: "objector-1", ItemID: 8})
	m, _, err := chair.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Ref == "g1" })
	if err != nil || m.Type != signaling.MsgError || m.Code != signaling.CodeItemMismatch {
		t.Fatalf("floor on the wrong item: got %+v %v, want a %s error", m, err, signaling.CodeItemMismatch)
	}

	chair.Send(signaling.ClientMessage{Type: signaling.MsgGrantFloor, Identity: "objector-1", ItemID: 7})
	ids := tracksOf(ctx, t, bob, "objector-1", 2)
	bobRec.waitPackets(ctx, t, "bob", ids[signaling.KindAudio], 20)

	mark = bob.Mark()
	chair.Send(signaling.ClientMessage{Type: signaling.MsgWithdrawFloor})
	for range 2 {
		if _, mark, err = bob.WaitType(ctx, mark, signaling.MsgTrackUnpublished); err != nil {
			t.Fatalf("bob: waiting for the speaker's tracks to go: %v", err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	before := bobRec.count(ids[signaling.KindAudio])
	time.Sleep(500 * time.Millisecond)
	if got := bobRec.count(ids[signaling.KindAudio]) - before; got != 0 {
		t.Errorf("bob got %d packets from the speaker after the floor was withdrawn, want 0", got)
	}
}
