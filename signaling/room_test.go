package signaling_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

func TestNoGoroutinesLeftAfterEveryoneLeaves(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.Limits.ResumeWindow = 500 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := goleak.IgnoreCurrent() // the hub's own: presence loop, media socket

	alice := e.join(ctx, member("alice", 11), client.Options{})
	bobRec := newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{})
	dropped := e.join(ctx, member("carl", 13), client.Options{})
	pub := publish(ctx, t, alice)
	ids := tracksOf(ctx, t, bob, "alice", 2)
	bobRec.waitPackets(ctx, t, "bob", ids[signaling.KindVideo], 10)

	pub.stop()
	for _, c := range []*client.Client{alice, bob, obs} {
		if err := c.Leave(ctx); err != nil {
			t.Fatalf("leave: %v", err)
		}
	}
	dropped.Close() // never comes back: the room waits out the resume window
	waitFor(ctx, t, "only the dropped participant to be left", func() bool { return e.hub.Rooms()[meetingID] == 1 })
	waitFor(ctx, t, "the room to close", func() bool { return len(e.hub.Rooms()) == 0 })
	if err := goleak.Find(before); err != nil {
		t.Errorf("goroutines left after everyone left: %v", err)
	}
	for _, name := range []string{"chamber_rtc_participants", "chamber_rtc_rooms", "chamber_sfu_published_tracks"} {
		if got := e.counter(name); got != 0 {
			t.Errorf("%s = %v after everyone left, want 0", name, got)
		}
	}
}

func TestMeetingClosedEndsTheRoom(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	mia := e.join(ctx, member("mia", 21), client.Options{})
	e.hub.Deliver(ctx, e.journal.append(signaling.EventMeetingClosed, false, nil))
	m, _, err := mia.WaitType(ctx, 0, signaling.MsgClosed)
	if err != nil {
		t.Fatalf("waiting for closed: %v", err)
	}
	if m.Reason != signaling.ReasonMeetingClosed {
		t.Errorf("closed reason %q, want %q", m.Reason, signaling.ReasonMeetingClosed)
	}
	if _, _, err := mia.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgMeetingEvent && m.Event.Type == signaling.EventMeetingClosed
	}); err != nil {
		t.Errorf("the meeting.closed event itself was not passed on: %v", err)
	}
	waitFor(ctx, t, "the room to close", func() bool { return len(e.hub.Rooms()) == 0 })

	// A new room reads the journal and refuses to open.
	_, err = client.Join(ctx, e.connect(), client.Options{Token: e.token(member("max", 22)), API: e.api})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != signaling.CodeMeetingClosed {
		t.Errorf("join after close: got %v, want %s", err, signaling.CodeMeetingClosed)
	}
}

func TestRoomStartsFromTheJournal(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.journal.append("meeting.opened", false, nil)
	e.journal.append(signaling.EventSessionPrivate, false, nil)
	e.journal.append("item.exempt", true, nil)

	alice := e.join(ctx, member("alice", 11), client.Options{})
	if j := alice.Joined(); j.Seq != 3 || j.Session != signaling.SessionPrivate || j.Message != "" {
		t.Errorf("member joined at seq %d in %q session with message %q, want 3, private, none", j.Seq, j.Session, j.Message)
	}
	// A colleague receives alice's media all along: the window in which the observer
	// must get nothing is the one in which the colleague gets plenty.
	bobRec := newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	obsRec := newRecorder()
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{OnTrack: obsRec.onTrack, LastSeq: 1})
	if j := obs.Joined(); j.Session != signaling.SessionPrivate || j.Message != signaling.PrivateSessionMessage {
		t.Errorf("observer joined in %q session with message %q, want private and %q", j.Session, j.Message, signaling.PrivateSessionMessage)
	}
	publish(ctx, t, alice)
	tracksOf(ctx, t, obs, "alice", 2)
	if _, _, err := obs.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgMeetingEvent && m.Event.Type == signaling.EventSessionPrivate
	}); err != nil {
		t.Errorf("observer: replay of session.private: %v", err)
	}
	video := tracksOf(ctx, t, bob, "alice", 2)[signaling.KindVideo]
	bobRec.waitPackets(ctx, t, "bob", video, 30)
	bobRec.waitPackets(ctx, t, "bob", video, bobRec.count(video)+30)
	if got := obsRec.total(); got != 0 {
		t.Errorf("observer who joined during private session got %d packets, want 0", got)
	}
	for _, m := range obs.Messages() {
		if m.Type == signaling.MsgMeetingEvent && m.Event.Private {
			t.Errorf("observer got private event %+v", m.Event)
		}
	}
}

func TestGapsAreFilledFromTheJournal(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mia := e.join(ctx, member("mia", 21), client.Options{})

	e.hub.Deliver(ctx, e.journal.append("a", false, nil))
	e.journal.append("b", false, nil) // lost on the bus
	e.journal.append("c", false, nil) // lost on the bus
	e.hub.Deliver(ctx, e.journal.append("d", false, nil))
	e.hub.Deliver(ctx, signaling.MeetingEvent{MeetingID: meetingID, Seq: 2, Type: "b"}) // late duplicate

	var got []string
	from := 0
	for len(got) < 4 {
		m, next, err := mia.WaitType(ctx, from, signaling.MsgMeetingEvent)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		from = next
		got = append(got, m.Event.Type)
	}
	time.Sleep(100 * time.Millisecond)
	for _, m := range mia.Messages()[from:] {
		if m.Type == signaling.MsgMeetingEvent {
			got = append(got, m.Event.Type)
		}
	}
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v in order, once each", got, want)
	}
}

func TestSlowClientIsDropped(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.Limits.SendQueue = 4 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := e.connect()
	defer conn.Close()
	conn.WriteMessage([]byte(`{"v":1,"type":"join","token":"` + e.token(member("mia", 21)) + `"}`))
	if _, err := conn.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	// mia stops reading; the room keeps talking.
	for i := range 200 {
		e.hub.Deliver(ctx, signaling.MeetingEvent{MeetingID: meetingID, Type: "tick", Seq: int64(i + 1)})
	}
	waitFor(ctx, t, "the slow client to be dropped", func() bool {
		return e.counter("chamber_rtc_dropped_slow_clients_total") == 1
	})
}

func TestTrackLimit(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.Limits.MaxTracksPerParticipant = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	track := func(id string) *webrtc.TrackLocalStaticRTP {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, id, "s")
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	var se *client.ServerError

	alice := e.join(ctx, member("alice", 11), client.Options{})
	for _, tr := range []*webrtc.TrackLocalStaticRTP{track("one"), track("two")} {
		if _, err := alice.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Negotiate(ctx); !errors.As(err, &se) || se.Code != signaling.CodeTooManyTracks {
		t.Errorf("offering two tracks: got %v, want %s", err, signaling.CodeTooManyTracks)
	}

	bob := e.join(ctx, member("bob", 12), client.Options{})
	if _, err := bob.Publish(ctx, track("three")); err != nil {
		t.Fatalf("publishing one track: %v", err)
	}
	if _, err := bob.Publish(ctx, track("four")); !errors.As(err, &se) || se.Code != signaling.CodeTooManyTracks {
		t.Errorf("publishing a second track: got %v, want %s", err, signaling.CodeTooManyTracks)
	}
}

func TestMuteAndSpeaking(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice := e.join(ctx, member("alice", 11), client.Options{})
	bobRec := newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	publish(ctx, t, alice)
	ids := tracksOf(ctx, t, bob, "alice", 2)
	bobRec.waitPackets(ctx, t, "bob", ids[signaling.KindAudio], 10)

	m, _, err := bob.WaitType(ctx, 0, signaling.MsgSpeaking)
	if err != nil {
		t.Fatalf("waiting for speaking: %v", err)
	}
	if len(m.Speakers) != 1 || m.Speakers[0].Identity != "alice" || m.Speakers[0].Level <= 0 {
		t.Errorf("speakers = %+v, want alice with a level", m.Speakers)
	}

	mark := bob.Mark()
	alice.Send(signaling.ClientMessage{Type: signaling.MsgMute, Kind: signaling.KindAudio})
	if _, _, err := bob.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgTrackUpdated && m.Track.ID == ids[signaling.KindAudio] && m.Track.Muted
	}); err != nil {
		t.Fatalf("waiting for the track to be muted: %v", err)
	}
	if _, _, err := bob.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgSpeaking && len(m.Speakers) == 0
	}); err != nil {
		t.Errorf("waiting for nobody speaking: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	audio, video := bobRec.count(ids[signaling.KindAudio]), bobRec.count(ids[signaling.KindVideo])
	time.Sleep(500 * time.Millisecond)
	if got := bobRec.count(ids[signaling.KindAudio]) - audio; got != 0 {
		t.Errorf("bob got %d audio packets from a muted track, want 0", got)
	}
	if bobRec.count(ids[signaling.KindVideo]) == video {
		t.Error("muting audio stopped video too")
	}
	alice.Send(signaling.ClientMessage{Type: signaling.MsgUnmute, Kind: signaling.KindAudio})
	bobRec.waitPackets(ctx, t, "bob after unmute", ids[signaling.KindAudio], audio+10)
}
