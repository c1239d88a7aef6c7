package signaling_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

// keyframeRequests counts the keyframe requests (PLI or FIR) a publisher is sent for
// its video.
type keyframeRequests struct{ n atomic.Int64 }

func (k *keyframeRequests) onRTCP(t webrtc.TrackLocal, pkts []rtcp.Packet) {
	if t.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	for _, p := range pkts {
		switch p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			k.n.Add(1)
		}
	}
}

// setReceive sends a receive message and waits for the server's receiving answer,
// which must say want.
func setReceive(ctx context.Context, t *testing.T, c *client.Client, id string, audio, video *bool, want signaling.Receive) {
	t.Helper()
	mark := c.Mark()
	if err := c.Send(signaling.ClientMessage{Type: signaling.MsgReceive, ID: id, Audio: audio, Video: video}); err != nil {
		t.Fatal(err)
	}
	m, _, err := c.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Ref == id })
	if err != nil {
		t.Fatalf("waiting for the answer to %s: %v", id, err)
	}
	if m.Type != signaling.MsgReceiving || m.Receive == nil || *m.Receive != want {
		t.Fatalf("answer to %s: %+v (receive %+v), want receiving %+v", id, m, m.Receive, want)
	}
}

// quietWhile checks that rec gets no more packets on trackID while the packets on
// others' tracks grow by the amounts given: the publisher keeps sending all the while.
func quietWhile(ctx context.Context, t *testing.T, who string, rec *recorder, trackID string, grow map[*recorder]map[string]int64) {
	t.Helper()
	before := rec.count(trackID)
	for r, tracks := range grow {
		for id, n := range tracks {
			r.waitPackets(ctx, t, who, id, r.count(id)+n)
		}
	}
	if got := rec.count(trackID) - before; got != 0 {
		t.Errorf("%s got %d packets on track %s after turning it off, want none", who, got, trackID)
	}
}

// TestObserverTurnsVideoOff: an observer on a poor connection asks for sound only. The
// SFU stops sending it video (while the publisher goes on sending, and a member goes
// on receiving it) but not audio; when the observer asks for video again, the
// publisher is asked for a keyframe and video flows again.
func TestObserverTurnsVideoOff(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	var kf keyframeRequests
	alice := e.join(ctx, member("alice", 11), client.Options{OnRTCP: kf.onRTCP})
	bobRec, obsRec := newRecorder(), newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{OnTrack: obsRec.onTrack})
	if got, want := obs.Joined().Receive, (signaling.Receive{Audio: true, Video: true}); got == nil || *got != want {
		t.Errorf("joined says the observer receives %+v, want %+v", got, want)
	}
	publish(ctx, t, alice)
	ids := tracksOf(ctx, t, obs, "alice", 2)
	bobIDs := tracksOf(ctx, t, bob, "alice", 2)
	audio, video := ids[signaling.KindAudio], ids[signaling.KindVideo]
	obsRec.waitPackets(ctx, t, "observer", video, 20)
	obsRec.waitPackets(ctx, t, "observer", audio, 20)

	setReceive(ctx, t, obs, "r1", nil, new(false), signaling.Receive{Audio: true, Video: false})
	// Packets already on their way may still land: let some audio sent after the
	// switch arrive first.
	obsRec.waitPackets(ctx, t, "observer", audio, obsRec.count(audio)+10)
	quietWhile(ctx, t, "observer", obsRec, video, map[*recorder]map[string]int64{
		obsRec: {audio: 60},
		bobRec: {bobIDs[signaling.KindVideo]: 30},
	})

	before := kf.n.Load()
	setReceive(ctx, t, obs, "r2", nil, new(true), signaling.Receive{Audio: true, Video: true})
	waitFor(ctx, t, "a keyframe request to the publisher", func() bool { return kf.n.Load() > before })
	obsRec.waitPackets(ctx, t, "observer with video on again", video, obsRec.count(video)+20)

	// Audio can go too, and come back.
	setReceive(ctx, t, obs, "r3", new(false), nil, signaling.Receive{Audio: false, Video: true})
	obsRec.waitPackets(ctx, t, "observer", video, obsRec.count(video)+10)
	quietWhile(ctx, t, "observer", obsRec, audio, map[*recorder]map[string]int64{
		obsRec: {video: 40},
		bobRec: {bobIDs[signaling.KindAudio]: 40},
	})
	setReceive(ctx, t, obs, "r4", new(true), new(true), signaling.Receive{Audio: true, Video: true})
	obsRec.waitPackets(ctx, t, "observer with audio on again", audio, obsRec.count(audio)+20)
}

// TestReceiveChoiceSurvivesResume: an observer who turned video off and lost the
// connection resumes with video still off, and can turn it on again.
func TestReceiveChoiceSurvivesResume(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	alice := e.join(ctx, member("alice", 11), client.Options{})
	bobRec := newRecorder()
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: bobRec.onTrack})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{})
	publish(ctx, t, alice)
	bobIDs := tracksOf(ctx, t, bob, "alice", 2)
	tracksOf(ctx, t, obs, "alice", 2)
	setReceive(ctx, t, obs, "r1", nil, new(false), signaling.Receive{Audio: true, Video: false})

	resume := obs.Joined().ResumeToken
	obs.Close()
	rec := newRecorder()
	again, err := client.Join(ctx, e.connect(), client.Options{Resume: resume, API: e.api, OnTrack: rec.onTrack})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	defer again.Close()
	j := again.Joined()
	if want := (signaling.Receive{Audio: true, Video: false}); !j.Resumed || j.Receive == nil || *j.Receive != want {
		t.Fatalf("resumed (%v) receiving %+v, want resumed receiving %+v", j.Resumed, j.Receive, want)
	}
	ids := tracksOf(ctx, t, again, "alice", 2)
	audio, video := ids[signaling.KindAudio], ids[signaling.KindVideo]
	quietWhile(ctx, t, "resumed observer", rec, video, map[*recorder]map[string]int64{
		rec:    {audio: 60},
		bobRec: {bobIDs[signaling.KindVideo]: 30},
	})
	if got := rec.count(video); got != 0 {
		t.Errorf("resumed observer got %d video packets, want none", got)
	}

	setReceive(ctx, t, again, "r2", nil, new(true), signaling.Receive{Audio: true, Video: true})
	rec.waitPackets(ctx, t, "resumed observer with video on", video, 20)
}

// TestReceiveValidation: a receive message must say true or false for audio or
// video; anything else is a bad message, and changes nothing.
func TestReceiveValidation(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{})
	for _, tc := range []struct{ name, msg, ref string }{
		{"neither kind", `{"type":"receive","id":"v1"}`, "v1"},
		{"null", `{"type":"receive","id":"v2","video":null}`, "v2"},
		{"a string", `{"type":"receive","id":"v3","video":"off"}`, "v3"},
		{"a number", `{"type":"receive","id":"v4","audio":0}`, "v4"},
		{"on another message", `{"type":"ping","id":"v5","video":false}`, "v5"},
		{"an id that is not a string", `{"type":"receive","id":6,"video":false}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := obs.Mark()
			if err := obs.SendRaw([]byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			m, _, err := obs.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
				return m.Type == signaling.MsgError || m.Type == signaling.MsgReceiving || m.Type == signaling.MsgPong
			})
			if err != nil {
				t.Fatalf("waiting for an answer to %s: %v", tc.msg, err)
			}
			if m.Type != signaling.MsgError || m.Code != signaling.CodeBadMessage || m.Ref != tc.ref {
				t.Errorf("answer to %s: %+v, want an error %s with ref %q", tc.msg, m, signaling.CodeBadMessage, tc.ref)
			}
		})
	}
	// Nothing changed: the next valid message finds both kinds still on.
	setReceive(ctx, t, obs, "ok", new(true), nil, signaling.Receive{Audio: true, Video: true})
}
