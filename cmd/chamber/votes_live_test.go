package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chamber/chamber/signaling"
	rtcclient "github.com/chamber/chamber/signaling/client"
	"github.com/chamber/chamber/voting"
)

// send is do with a JSON body.
func (b *browser) send(method, path string, body any, want int, out any) {
	b.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(method, b.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// enrolApproved enrols a new key for b's user and has the clerk approve it.
func enrolApproved(t *testing.T, b, clerk *browser) ed25519.PrivateKey {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	var k voting.Key
	b.send("POST", "/api/v1/me/keys", map[string]string{"public_key": voting.EncodePublicKey(pub), "label": "laptop"}, 201, &k)
	clerk.do("POST", "/api/v1/keys/"+string(k.ID)+"/approve", 200, nil)
	return priv
}

// TestCastOverTheLiveRoom: a councillor in the meeting's live room casts a signed
// ballot over the WebSocket and gets its receipt, which checks out against the
// meeting's published verifier key; refusals come back with their codes.
func TestCastOverTheLiveRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("real WebRTC peers")
	}
	s := startServer(t, nil, "--data-dir", t.TempDir(), "--demo", "--rtc-udp-host", "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clerk, chair, cllr := signIn(t, s.url, s.links["clerk"]), signIn(t, s.url, s.links["chair"]), signIn(t, s.url, s.links["councillor"])
	priv := enrolApproved(t, cllr, clerk)
	var me struct {
		ID int64 `json:"id"`
	}
	cllr.do("GET", "/api/v1/me", 200, &me)

	chair.do("POST", "/api/v1/meetings/1/start", 200, nil)
	chair.do("POST", "/api/v1/meetings/1/next", 200, nil)
	var members []struct {
		UserID int64  `json:"user_id"`
		Role   string `json:"role"`
	}
	clerk.do("GET", "/api/v1/committees/1/members", 200, &members)
	for _, m := range members {
		if m.Role != "substitute" {
			clerk.send("POST", "/api/v1/meetings/1/attendance", map[string]any{"user_id": m.UserID, "mode": "in_room"}, 201, nil)
		}
	}
	var poll voting.PollView
	chair.send("POST", "/api/v1/meetings/1/polls", map[string]any{"question": "That the apologies be noted."}, 201, &poll)
	var logInfo struct {
		VerifierKey string `json:"verifier_key"`
	}
	clerk.do("GET", "/api/v1/meetings/1/log", 200, &logInfo)

	var j joinAnswer
	cllr.do("POST", "/api/v1/meetings/1/join", 200, &j)
	room := enterRoom(ctx, t, j, rtcclient.Options{})

	ballot := func(choice string, edit func(*voting.Ballot)) voting.SignedBallot {
		b := voting.Ballot{Meeting: poll.Meeting, Item: poll.Item, Poll: poll.ID, Voter: me.ID, Choice: choice,
			CastAt: time.Now(), Challenge: poll.Challenge}
		rand.Read(b.Nonce[:])
		if edit != nil {
			edit(&b)
		}
		sb, err := voting.SignBallot(b, priv)
		if err != nil {
			t.Fatal(err)
		}
		return sb
	}
	n := 0
	cast := func(sb voting.SignedBallot) signaling.ServerMessage {
		t.Helper()
		n++
		id := fmt.Sprintf("cast-%d", n)
		raw, _ := json.Marshal(sb)
		mark := room.Mark()
		if err := room.Send(signaling.ClientMessage{Type: signaling.MsgCast, ID: id, Ballot: raw}); err != nil {
			t.Fatal(err)
		}
		m, _, err := room.Wait(ctx, mark, func(m signaling.ServerMessage) bool { return m.Ref == id })
		if err != nil {
			t.Fatalf("no answer to %s: %v", id, err)
		}
		return m
	}

	sb := ballot("for", nil)
	m := cast(sb)
	if m.Type != signaling.MsgReceipt {
		t.Fatalf("cast: got %s %s %s, want a receipt", m.Type, m.Code, m.Message)
	}
	var r voting.Receipt
	if err := json.Unmarshal(m.Receipt, &r); err != nil {
		t.Fatal(err)
	}
	leaf, _ := voting.EncodeBallotEntry(sb)
	if _, err := voting.VerifyReceipt(r, leaf, logInfo.VerifierKey); err != nil {
		t.Errorf("the receipt does not verify: %v", err)
	}
	if again := cast(sb); again.Type != signaling.MsgReceipt || !bytes.Equal(again.Receipt, m.Receipt) {
		t.Errorf("the same ballot again: got %s %s, want the same receipt", again.Type, again.Receipt)
	}
	for _, tc := range []struct {
		name string
		sb   voting.SignedBallot
		code string
	}{
		{"an option the poll lacks", ballot("maybe", nil), signaling.CodeInvalidChoice},
		{"another meeting", ballot("for", func(b *voting.Ballot) { b.Meeting = 99 }), signaling.CodeWrongPoll},
		{"another poll's challenge", ballot("for", func(b *voting.Ballot) { b.Challenge[0] ^= 1 }), signaling.CodeWrongPoll},
		{"someone else's vote", ballot("for", func(b *voting.Ballot) { b.Voter = me.ID + 1 }), signaling.CodeForbidden},
		{"a casting vote while open", ballot("for", func(b *voting.Ballot) { b.Casting = true }), signaling.CodePollOpen},
	} {
		if m := cast(tc.sb); m.Type != signaling.MsgError || m.Code != tc.code {
			t.Errorf("%s: got %s %q (%s), want %q", tc.name, m.Type, m.Code, m.Message, tc.code)
		}
	}
	var pr voting.Progress
	clerk.do("GET", fmt.Sprintf("/api/v1/meetings/1/polls/%d/progress", poll.ID), 200, &pr)
	if pr.Ballots != 1 || pr.Voted != 1 {
		t.Errorf("progress after one ballot over the room: %+v", pr)
	}
}
