package signaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

func serve(t *testing.T, e *env) (wsURL string) {
	t.Helper()
	srv := httptest.NewServer(e.hub)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestOriginCheck(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) {
		c.AllowedOrigins = []string{"https://council.example"}
	})
	url := serve(t, e)
	host := strings.TrimPrefix(url, "ws://")
	for _, tc := range []struct {
		name, origin string
		wantStatus   int
	}{
		{"no origin (not a browser)", "", http.StatusSwitchingProtocols},
		{"same host", "http://" + host, http.StatusSwitchingProtocols},
		{"allowed origin", "https://council.example", http.StatusSwitchingProtocols},
		{"other origin", "https://evil.example", http.StatusForbidden},
		{"allowed host, other scheme", "http://council.example", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(url, h)
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusForbidden {
				var body struct{ Code, Message string }
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
					t.Fatalf("decode error body: %v", err)
				}
				if body.Code != signaling.CodeBadOrigin || !strings.Contains(body.Message, tc.origin) {
					t.Errorf("body = %+v, want code %q naming the origin", body, signaling.CodeBadOrigin)
				}
			}
		})
	}
}

func TestMessageLimits(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) {
		c.Limits.MaxMessageSize = 2048
		c.Limits.MessageRate = 5
		c.Limits.MessageBurst = 5
	})
	url := serve(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func(t *testing.T) *client.Client {
		conn, err := client.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Join(ctx, conn, client.Options{Token: e.token(member("mia", 21)), API: e.api})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("oversize message", func(t *testing.T) {
		c := dial(t)
		big := `{"type":"ping","id":"` + strings.Repeat("x", 3000) + `"}`
		if err := c.SendRaw([]byte(big)); err != nil {
			t.Fatal(err)
		}
		m, _, err := c.WaitType(ctx, 0, signaling.MsgError)
		if err != nil {
			t.Fatalf("waiting for error: %v", err)
		}
		if m.Code != signaling.CodeMessageTooLarge || !strings.Contains(m.Message, "2048") {
			t.Errorf("error %q %q, want %q naming the limit", m.Code, m.Message, signaling.CodeMessageTooLarge)
		}
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Error("connection still open after an oversize message")
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		c := dial(t)
		for range 20 {
			c.Send(signaling.ClientMessage{Type: signaling.MsgPing})
		}
		m, _, err := c.WaitType(ctx, 0, signaling.MsgError)
		if err != nil {
			t.Fatalf("waiting for error: %v", err)
		}
		if m.Code != signaling.CodeRateLimited {
			t.Errorf("error %q %q, want %q", m.Code, m.Message, signaling.CodeRateLimited)
		}
	})

	t.Run("bad message", func(t *testing.T) {
		c := dial(t)
		c.SendRaw([]byte(`{"type":"grant_floor"}`))
		m, _, err := c.WaitType(ctx, 0, signaling.MsgError)
		if err != nil {
			t.Fatalf("waiting for error: %v", err)
		}
		if m.Code != signaling.CodeBadMessage || !strings.Contains(m.Message, "identity") {
			t.Errorf("error %q %q, want %q about the identity", m.Code, m.Message, signaling.CodeBadMessage)
		}
	})
}

func TestJoinRefusals(t *testing.T) {
	now := time.Now()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	old := signaling.NewTokens(testKey, func() time.Time { return now.Add(-time.Hour) })
	expired, err := old.Issue(member("mia", 21), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := signaling.NewTokens([]byte("another key, another key, another"), nil).Issue(member("mia", 21), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		first    string
		wantCode string
	}{
		{"not a join", `{"type":"ping"}`, signaling.CodeNotJoined},
		{"not JSON", `hello`, signaling.CodeBadMessage},
		{"no version", `{"type":"join","token":"` + e.token(member("mia", 21)) + `"}`, signaling.CodeUnsupportedVersion},
		{"forged token", `{"v":1,"type":"join","token":"` + forged + `"}`, signaling.CodeUnauthorized},
		{"expired token", `{"v":1,"type":"join","token":"` + expired + `"}`, signaling.CodeTokenExpired},
		{"bad resume token", `{"v":1,"type":"join","resume":"abc"}`, signaling.CodeResumeFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := e.connect()
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if err := conn.WriteMessage([]byte(tc.first)); err != nil {
				t.Fatal(err)
			}
			b, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("read reply: %v", err)
			}
			m, err := signaling.DecodeServerMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != signaling.MsgError || m.Code != tc.wantCode {
				t.Errorf("got %s %q (%s), want error %q", m.Type, m.Code, m.Message, tc.wantCode)
			}
			if _, err := conn.ReadMessage(); err == nil {
				t.Errorf("connection still open after a refused join")
			}
		})
	}

	t.Run("room full", func(t *testing.T) {
		e := newEnv(t, func(c *signaling.Config) { c.Limits.MaxParticipants = 1 })
		e.join(ctx, member("mia", 21), client.Options{})
		_, err := client.Join(ctx, e.connect(), client.Options{Token: e.token(member("max", 22)), API: e.api})
		var se *client.ServerError
		if !errors.As(err, &se) || se.Code != signaling.CodeRoomFull {
			t.Errorf("second join: got %v, want %s", err, signaling.CodeRoomFull)
		}
	})
}
