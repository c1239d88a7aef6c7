package signaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

// rawClient speaks the protocol by hand, to put the server in states a well-behaved
// client avoids.
type rawClient struct {
	t    *testing.T
	conn signaling.Conn
}

func (r *rawClient) send(m signaling.ClientMessage) {
	r.t.Helper()
	b, _ := json.Marshal(m)
	if err := r.conn.WriteMessage(b); err != nil {
		r.t.Fatal(err)
	}
}

// next reads until a message of type typ (or an error, when typ is error) arrives.
func (r *rawClient) next(typ string) signaling.ServerMessage {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		b, err := r.conn.ReadMessage()
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", typ, err)
		}
		m, err := signaling.DecodeServerMessage(b)
		if err != nil {
			r.t.Fatal(err)
		}
		if m.Type == typ {
			return m
		}
	}
}

// within is next with a deadline: it reports false if no such message arrives in time.
func (r *rawClient) within(d time.Duration, typ string) (signaling.ServerMessage, bool) {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(d))
	for {
		b, err := r.conn.ReadMessage()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return signaling.ServerMessage{}, false
		}
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", typ, err)
		}
		m, err := signaling.DecodeServerMessage(b)
		if err != nil {
			r.t.Fatal(err)
		}
		if m.Type == typ {
			return m, true
		}
	}
}

func TestGlare(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	raw := &rawClient{t: t, conn: e.connect()}
	defer raw.conn.Close()
	raw.send(signaling.ClientMessage{V: 1, Type: signaling.MsgJoin, Token: e.token(member("bob", 12))})
	raw.next(signaling.MsgJoined)

	alice := e.join(ctx, member("alice", 11), client.Options{})
	publish(ctx, t, alice)
	serverOffer := raw.next(signaling.MsgOffer) // left unanswered for now

	pc, err := e.api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	mic, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(mic); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	raw.send(signaling.ClientMessage{Type: signaling.MsgOffer, ID: "mine", SDP: offer.SDP})
	m := raw.next(signaling.MsgError)
	if m.Code != signaling.CodeGlare || m.Ref != "mine" {
		t.Fatalf("crossing offers: got error %q (ref %q), want %q for ref mine", m.Code, m.Ref, signaling.CodeGlare)
	}

	// A browser would roll its offer back; pion cannot, so a fresh peer connection
	// stands in for the rolled-back one: it answers the server, then offers again.
	pc.Close()
	pc, err = e.api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: serverOffer.SDP}); err != nil {
		t.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(mic); err != nil {
		t.Fatal(err)
	}
	raw.send(signaling.ClientMessage{Type: signaling.MsgAnswer, SDP: answer.SDP})
	// The server may have more to offer (alice's second track): answer until it is quiet.
	for {
		m, ok := raw.within(300*time.Millisecond, signaling.MsgOffer)
		if !ok {
			break
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
			t.Fatal(err)
		}
		answer, err := pc.CreateAnswer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pc.SetLocalDescription(answer); err != nil {
			t.Fatal(err)
		}
		raw.send(signaling.ClientMessage{Type: signaling.MsgAnswer, SDP: answer.SDP})
	}
	offer, err = pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	raw.send(signaling.ClientMessage{Type: signaling.MsgOffer, ID: "again", SDP: offer.SDP})
	m = raw.next(signaling.MsgAnswer)
	if m.Ref != "again" {
		t.Errorf("answer ref %q, want again", m.Ref)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
		t.Fatalf("server's answer: %v", err)
	}
}

// TestCrossingOffersSettle has two members publish at once, so that their offers
// cross the server's; the client's polite handling must get both published.
func TestCrossingOffersSettle(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	alice := e.join(ctx, member("alice", 11), client.Options{})
	bob := e.join(ctx, member("bob", 12), client.Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		publish(ctx, t, alice)
	}()
	publish(ctx, t, bob)
	<-done
	tracksOf(ctx, t, alice, "bob", 2)
	tracksOf(ctx, t, bob, "alice", 2)
}
