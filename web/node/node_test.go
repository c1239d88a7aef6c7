package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/web/node"
)

// deadline is how long the test waits for what happens in the background.
const deadline = 30 * time.Second

// logBuffer collects the node's log; a failed test shows it.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNode assembles a node, serves it, and checks what the wiring adds to the
// services: /readyz checks what the node stands on, a meeting that closes has its
// minutes drafted and its webhooks delivered, and shutdown stops the background work
// and closes what the node opened, and only that.
func TestNode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(t *testing.T) node.Config
		checks []string // readiness checks /readyz reports
		owned  bool     // the node opens (and closes) the database
	}{
		{"sqlite", func(t *testing.T) node.Config {
			return node.Config{Database: dbtest.Config(t, migrations.SQLite)}
		}, []string{"database"}, true},
		{"postgres-redis", func(t *testing.T) node.Config {
			return node.Config{DB: dbtest.Open(t, migrations.Postgres), RedisURL: dbtest.RedisURL(t), NodeID: "node-test"}
		}, []string{"database", "redis"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testNode(t, tc.config(t), tc.checks, tc.owned)
		})
	}
}

func testNode(t *testing.T, cfg node.Config, checks []string, owned bool) {
	ctx := context.Background()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node log:\n%s", logs.String())
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg.RTC = node.RTC{UDPHost: "127.0.0.1"}
	cfg.WebhookNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Password = agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("open node: %v", err)
	}
	srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	shut := false
	t.Cleanup(func() {
		if !shut {
			srv.Close()
			n.Close()
		}
	})

	// Ready, on whatever the node stands on.
	resp, err := http.Get(n.PublicURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	err = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || ready.Status != "ready" {
		t.Fatalf("GET /readyz: got %d %+v (%v), want 200 ready", resp.StatusCode, ready, err)
	}
	for _, c := range checks {
		if ready.Checks[c] != "ok" {
			t.Errorf("GET /readyz: check %q is %q, want ok (all: %v)", c, ready.Checks[c], ready.Checks)
		}
	}

	// A council with a webhook endpoint, and a published meeting of its committee.
	admin := agenda.Actor{Admin: true}
	co, err := n.Agenda.CreateCouncil(ctx, admin, agenda.CouncilInput{Name: "Afon Vale Council", Slug: "afon-vale"})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := n.Agenda.CreateCommittee(ctx, admin, co.ID, agenda.CommitteeInput{Name: "Planning Committee", Profile: "wales"})
	if err != nil {
		t.Fatal(err)
	}
	received := make(chan webhooks.Payload, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhooks.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook: %v", err)
		}
		select {
		case received <- p:
		default:
		}
	}))
	defer receiver.Close()
	if _, err := n.Webhooks.CreateEndpoint(ctx, admin, co.ID, webhooks.EndpointInput{URL: receiver.URL,
		EventTypes: []string{agenda.EvMeetingClosed}}); err != nil {
		t.Fatalf("create webhook endpoint: %v", err)
	}
	m, err := n.Agenda.CreateMeeting(ctx, admin, agenda.MeetingInput{CommitteeID: cm.ID, Title: "Planning Committee",
		StartsAt: time.Now().Add(-time.Hour), Location: "Council Chamber", Published: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Agenda.StartMeeting(ctx, admin, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Agenda.CloseMeeting(ctx, admin, m.ID); err != nil {
		t.Fatal(err)
	}

	// Closing drafts the minutes, as Chamber.
	var mins *minutes.Minutes
	for end := time.Now().Add(deadline); ; time.Sleep(20 * time.Millisecond) {
		mins, err = n.Minutes.Get(ctx, admin, m.ID)
		if err == nil || !errors.Is(err, minutes.ErrNotFound) || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		t.Fatalf("minutes of the closed meeting: %v; want a draft", err)
	}
	if mins.Status != minutes.Draft || mins.Version != 1 || mins.Drafted.By.Name != "Chamber" {
		t.Errorf("minutes of the closed meeting: got version %d %s by %q, want version 1 draft by Chamber",
			mins.Version, mins.Status, mins.Drafted.By.Name)
	}

	// The webhook goes out.
	select {
	case p := <-received:
		if p.Type != agenda.EvMeetingClosed || p.MeetingID != m.ID {
			t.Errorf("webhook: got %s of meeting %d, want %s of meeting %d", p.Type, p.MeetingID, agenda.EvMeetingClosed, m.ID)
		}
	case <-time.After(deadline):
		t.Fatal("no webhook delivered for the meeting's closing")
	}

	// Shutdown stops Run, and closes the database only if the node opened it.
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	shut = true
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := n.Run(ctx); !errors.Is(err, node.ErrClosed) {
		t.Errorf("Run after shutdown: got %v, want %v", err, node.ErrClosed)
	}
	err = n.DB.Ping(ctx)
	if owned && err == nil {
		t.Error("the database the node opened is still open after shutdown")
	}
	if !owned && err != nil {
		t.Errorf("the database the node was given was closed: %v", err)
	}
}
