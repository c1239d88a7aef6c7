package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
	rtcclient "github.com/chamber/chamber/signaling/client"
)

// browser is an HTTP client signed in with a session cookie, as a web page is.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// signIn follows a demo sign-in link and reads the session's CSRF token.
func signIn(t *testing.T, base, link string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if resp, body := get(t, b.c, link); resp.StatusCode != 200 {
		t.Fatalf("sign-in link: %d %s", resp.StatusCode, body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	b.do("GET", "/api/v1/me", 200, &me)
	b.csrf = me.CSRF
	return b
}

func (b *browser) do(method, path string, want int, out any) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, nil)
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, body, want)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			b.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// enterRoom opens the room's WebSocket with a join answer and joins.
func enterRoom(ctx context.Context, t *testing.T, j joinAnswer, opts rtcclient.Options) *rtcclient.Client {
	t.Helper()
	conn, err := rtcclient.Dial(ctx, j.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Token = j.Token
	c, err := rtcclient.Join(ctx, conn, opts)
	if err != nil {
		t.Fatalf("join as %s: %v", j.Role, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLiveRoomThroughServer runs the whole path a meeting takes: the chair signs in with
// the demo link and joins through the API, publishes audio and video, an observer with
// no account watches; the chair's move onto the exempt item reaches the room through the
// journal and the bus and cuts the observer off; the chair's presence becomes attendance.
func TestLiveRoomThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("real WebRTC peers")
	}
	s := startServer(t, nil, "--data-dir", t.TempDir(), "--demo", "--rtc-udp-host", "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	chair := signIn(t, s.url, s.links["chair"])
	var cj joinAnswer
	chair.do("POST", "/api/v1/meetings/1/join", 200, &cj)
	if cj.Role != signaling.RoleChair || !strings.HasPrefix(cj.URL, "ws://") {
		t.Fatalf("chair's join: got %+v", cj)
	}
	var oj joinAnswer
	resp, err := http.Post(s.url+"/api/v1/meetings/1/join", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&oj)
	resp.Body.Close()
	if oj.Role != signaling.RoleObserver {
		t.Fatalf("public join: got %d %+v, want an observer", resp.StatusCode, oj)
	}

	var received atomic.Int64
	obs := enterRoom(ctx, t, oj, rtcclient.Options{OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}})
	ch := enterRoom(ctx, t, cj, rtcclient.Options{})
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "chair")
	video, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "chair")
	if _, err := ch.Publish(ctx, audio, video); err != nil {
		t.Fatalf("publish: %v", err)
	}
	mediaCtx, stopMedia := context.WithCancel(ctx)
	defer stopMedia()
	go rtcclient.Synth{Kind: webrtc.RTPCodecTypeAudio}.Run(mediaCtx, audio)
	go rtcclient.Synth{Kind: webrtc.RTPCodecTypeVideo, Bitrate: 300_000}.Run(mediaCtx, video)

	waitFor(ctx, t, "the observer receives the chair's media", func() bool { return received.Load() > 50 })

	// The chair starts the meeting and moves through to the exempt item (the sixth).
	mark := obs.Mark()
	chair.do("POST", "/api/v1/meetings/1/start", 200, nil)
	for range 6 {
		chair.do("POST", "/api/v1/meetings/1/next", 200, nil)
	}
	if _, _, err := obs.Wait(ctx, mark, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgSession && m.Session == "private"
	}); err != nil {
		t.Fatalf("the observer was not told of the private session: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // packets already on the wire
	before := received.Load()
	time.Sleep(time.Second)
	if got := received.Load() - before; got > 0 {
		t.Errorf("the observer received %d packets in private session, want none", got)
	}
	for _, m := range obs.Messages()[mark:] {
		if m.Type == signaling.MsgMeetingEvent && m.Event != nil && m.Event.Private {
			t.Errorf("the observer received private event %s", m.Event.Type)
		}
	}

	// The chair is in the room, so the agenda records them present, remotely and (under
	// the Welsh rules) with a vote.
	var att []struct {
		UserID int64  `json:"user_id"`
		Mode   string `json:"mode"`
		Source string `json:"source"`
	}
	chair.do("GET", "/api/v1/meetings/1/attendance", 200, &att)
	if len(att) != 1 || att[0].Mode != "remote_voting" || att[0].Source != "presence" {
		t.Errorf("attendance after the chair joined: got %+v, want one remote_voting stretch from presence", att)
	}
	stopMedia()
	ch.Leave(ctx)
	waitFor(ctx, t, "the chair's departure is recorded", func() bool {
		var att []struct {
			LeftAt *time.Time `json:"left_at"`
		}
		chair.do("GET", "/api/v1/meetings/1/attendance", 200, &att)
		return len(att) == 1 && att[0].LeftAt != nil
	})
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
