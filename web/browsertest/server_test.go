package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web/node"
)

// server is a Chamber server on a loopback port, assembled as `chamber serve`
// assembles it (web/node), over a fresh SQLite database.
type server struct {
	t     *testing.T
	url   string // http://127.0.0.1:port, also the public URL
	node  *node.Node
	svc   *agenda.Service
	votes *voting.Service
	logs  *logBuffer
	admin agenda.Actor
}

// logBuffer collects the server's log; a failed test shows its end.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

func startServer(t *testing.T) *server {
	t.Helper()
	ctx := context.Background()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + ln.Addr().String()
	n, err := node.Open(ctx, node.Config{
		PublicURL: publicURL,
		Database:  migrations.Config{SQLitePath: filepath.Join(t.TempDir(), "chamber.db")},
		RTC:       node.RTC{UDPHost: "127.0.0.1"},
		// Webhooks may be delivered to a receiver in the test.
		WebhookNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Logger:          log,
		Password:        agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		ln.Close()
		t.Fatalf("open node: %v", err)
	}
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		n.Run(ctx)
	}()
	srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s := &server{t: t, url: publicURL, node: n, svc: n.Agenda, votes: n.Votes, logs: logs, admin: agenda.Actor{Admin: true}}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		if err := n.Shutdown(sctx); err != nil {
			t.Errorf("shut the node down: %v", err)
		}
		<-ran
		if t.Failed() {
			t.Logf("server log:\n%s", logs.tail(6000))
		}
	})
	return s
}

// council is a council set up through the service: a clerk, a committee under the
// Welsh rules (remote members count and vote) with a chair and members, and a
// published meeting in progress at its first item.
type council struct {
	s                  *server
	id, committee      int64
	clerk, chair       int64
	members            []int64
	meeting            int64
	items              []agenda.Item
	exempt             agenda.Item // the meeting's exempt item
	names              map[int64]string
	clerkAPI, chairAPI *apiClient
}

func (s *server) newCouncil(members ...string) *council {
	s.t.Helper()
	c := s.newCouncilNotStarted(members...)
	c.chairAPI.do("POST", c.path("/start"), nil, 200, nil)
	c.chairAPI.do("POST", c.path("/next"), nil, 200, nil)
	return c
}

// newCouncilNotStarted is newCouncil with the meeting published but not started.
func (s *server) newCouncilNotStarted(members ...string) *council {
	t := s.t
	t.Helper()
	ctx := context.Background()
	c := &council{s: s, names: map[int64]string{}}
	co, err := s.svc.CreateCouncil(ctx, s.admin, agenda.CouncilInput{Name: "Afon Vale Council", Slug: "afon-vale"})
	if err != nil {
		t.Fatal(err)
	}
	c.id = co.ID
	cm, err := s.svc.CreateCommittee(ctx, s.admin, c.id, agenda.CommitteeInput{Name: "Planning Committee", Profile: "wales"})
	if err != nil {
		t.Fatal(err)
	}
	c.committee = cm.ID
	add := func(name, email string, role agenda.CouncilRole, seat agenda.CommitteeRole) int64 {
		p, err := s.svc.AddPerson(ctx, s.admin, c.id, agenda.PersonInput{Name: name, Email: email, Role: role})
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		if seat != "" {
			if _, err := s.svc.SetMember(ctx, s.admin, c.committee, p.UserID, seat); err != nil {
				t.Fatalf("seat %s: %v", name, err)
			}
		}
		c.names[p.UserID] = name
		return p.UserID
	}
	c.clerk = add("Bronwen Clerk", "clerk@afon.example", agenda.RoleClerk, "")
	c.chair = add("Cllr Dafydd Chair", "chair@afon.example", agenda.RoleCouncillor, agenda.Chair)
	for i, name := range members {
		c.members = append(c.members, add(name, fmt.Sprintf("member%d@afon.example", i+1), agenda.RoleCouncillor, agenda.Member))
	}
	m, err := s.svc.CreateMeeting(ctx, s.admin, agenda.MeetingInput{CommitteeID: c.committee, Title: "Planning Committee",
		StartsAt: time.Now().Add(-10 * time.Minute), Location: "Council Chamber and online", Published: true})
	if err != nil {
		t.Fatal(err)
	}
	c.meeting = m.ID
	for _, in := range []agenda.ItemInput{
		{Title: "Apologies for absence"},
		{Title: "25/0102/FUL Land at Heol Las: 12 homes", Kind: agenda.Planning, Description: "Officer recommends approval.",
			Papers: []agenda.Paper{{Title: "Officer's report", URL: "https://afon.example/papers/25-0102-report.pdf"}}},
		{Title: "Sale of the old depot", Kind: agenda.Exempt, ExemptParagraph: 3, Description: "Terms of the sale."},
		{Title: "Any other business"},
	} {
		it, err := s.svc.AddItem(ctx, s.admin, c.meeting, in)
		if err != nil {
			t.Fatal(err)
		}
		c.items = append(c.items, it)
		if it.Kind == agenda.Exempt {
			c.exempt = it
		}
	}
	c.clerkAPI, c.chairAPI = s.apiFor(c.clerk), s.apiFor(c.chair)
	return c
}

func (c *council) path(p string) string { return fmt.Sprintf("/api/v1/meetings/%d%s", c.meeting, p) }

// pendingKey is a device key awaiting a clerk's approval.
type pendingKey struct {
	ID   string `json:"id"`
	User int64  `json:"user"`
}

// pendingKeys returns the council's keys awaiting approval, as the clerk lists them,
// and fails the test unless there are n.
func (c *council) pendingKeys(t *testing.T, n int) []pendingKey {
	t.Helper()
	var pending []pendingKey
	c.clerkAPI.do("GET", fmt.Sprintf("/api/v1/councils/%d/keys?status=pending", c.id), nil, 200, &pending)
	if len(pending) != n {
		t.Fatalf("pending keys: got %+v, want %d", pending, n)
	}
	return pending
}

// approveKey approves a device key as the clerk.
func (c *council) approveKey(id string) {
	c.clerkAPI.do("POST", "/api/v1/keys/"+id+"/approve", nil, 200, nil)
}

// signInLink returns a link that signs the user in and leads to page.
func (s *server) signInLink(userID int64, page string) string {
	s.t.Helper()
	token, err := s.svc.NewSignInLink(context.Background(), s.admin, userID, page, true)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.url + "/login/link/" + token
}

// apiClient calls the API with a user's bearer token.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (s *server) apiFor(userID int64) *apiClient {
	s.t.Helper()
	ctx := context.Background()
	a, err := s.svc.Actor(ctx, userID)
	if err != nil {
		s.t.Fatal(err)
	}
	token, _, err := s.svc.NewAPIToken(ctx, a, "browser tests", 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return &apiClient{t: s.t, base: s.url, token: token}
}

// do sends body as JSON (nil for none), checks the status and decodes the answer into out.
func (c *apiClient) do(method, path string, body any, want int, out any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, strings.TrimSpace(string(b)), want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}
