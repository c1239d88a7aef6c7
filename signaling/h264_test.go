package signaling_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

// TestH264Forwarded: a member publishing H.264 (constrained baseline, packetization
// mode 1) is received in H.264 by the others, keyframes and all.
func TestH264Forwarded(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	alice := e.join(ctx, member("alice", 11), client.Options{})
	var (
		mu        sync.Mutex // guards codec
		codec     string
		packets   atomic.Int64
		keyframes atomic.Int64
	)
	bob := e.join(ctx, member("bob", 12), client.Options{OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		mu.Lock()
		codec = tr.Codec().MimeType
		mu.Unlock()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			packets.Add(1)
			if client.H264NALType(p.Payload) == client.NALIDR {
				keyframes.Add(1)
			}
		}
	}})

	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}, "camera", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Publish(ctx, track); err != nil {
		t.Fatalf("publish H.264: %v", err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		client.Synth{Kind: webrtc.RTPCodecTypeVideo, Bitrate: 300_000, FPS: 15, KeyframeEvery: 15}.Run(sctx, track)
	}()
	defer func() {
		stop()
		<-done
	}()

	m, _, err := bob.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgTrackPublished && m.Track.Identity == "alice"
	})
	if err != nil {
		t.Fatalf("bob: waiting for alice's track: %v", err)
	}
	if m.Track.Kind != signaling.KindVideo || m.Track.Codec != webrtc.MimeTypeH264 {
		t.Errorf("track_published: kind %q codec %q, want video %s", m.Track.Kind, m.Track.Codec, webrtc.MimeTypeH264)
	}
	waitFor(ctx, t, "bob to receive H.264 packets and a keyframe", func() bool {
		return packets.Load() >= 50 && keyframes.Load() >= 1
	})
	mu.Lock()
	defer mu.Unlock()
	if codec != webrtc.MimeTypeH264 {
		t.Errorf("bob receives %q, want %s", codec, webrtc.MimeTypeH264)
	}
}

func TestH264NALType(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		want    byte
	}{
		{"single IDR", []byte{0x65, 1, 2}, client.NALIDR},
		{"single slice", []byte{0x41, 1}, client.NALSlice},
		{"FU-A start of IDR", []byte{0x7c, 0x85, 1}, client.NALIDR},
		{"STAP-A of SPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42}, client.NALSPS},
		{"short FU-A", []byte{0x7c}, 0},
		{"empty", nil, 0},
	} {
		if got := client.H264NALType(tc.payload); got != tc.want {
			t.Errorf("%s: H264NALType = %d, want %d", tc.name, got, tc.want)
		}
	}
}
