package browsertest

import (
	"context"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	rtcclient "github.com/chamber/chamber/signaling/client"
)

// opusSilence is one 20 ms Opus frame of silence (CELT, full band).
var opusSilence = []byte{0xf8, 0xff, 0xfe}

type joinAnswer struct {
	Token string `json:"token"`
	URL   string `json:"url"`
	Role  string `json:"role"`
}

// publishMember joins a member to the meeting's room as a Go WebRTC peer and
// publishes real media until the test ends: Opus silence and VP8 keyframes at 15
// frames a second.
func (c *council) publishMember(userID int64) *rtcclient.Client {
	t := c.s.t
	t.Helper()
	var j joinAnswer
	c.s.apiFor(userID).do("POST", c.path("/join"), nil, 200, &j)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, err := rtcclient.Dial(ctx, j.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := rtcclient.Join(ctx, conn, rtcclient.Options{Token: j.Token})
	if err != nil {
		t.Fatalf("join as %s: %v", j.Role, err)
	}
	identity := cl.Joined().Self.Identity
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", identity)
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", identity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Publish(ctx, audio, video); err != nil {
		t.Fatalf("publish: %v", err)
	}
	mediaCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-mediaCtx.Done():
				return
			case <-tick.C:
				audio.WriteSample(media.Sample{Data: opusSilence, Duration: 20 * time.Millisecond})
			}
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		frame := vp8Keyframe(320, 180)
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		for {
			select {
			case <-mediaCtx.Done():
				return
			case <-tick.C:
				video.WriteSample(media.Sample{Data: frame, Duration: time.Second / 15})
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
		<-done
		cl.Close()
	})
	return cl
}
