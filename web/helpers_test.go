package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	minutessql "github.com/chamber/chamber/agenda/minutes/sqlstore"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/agenda/webhooks"
	webhookssql "github.com/chamber/chamber/agenda/webhooks/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/voting"
	votingsql "github.com/chamber/chamber/voting/sqlstore"
	"github.com/chamber/chamber/web"
)

// clock is a settable clock shared by the service and the server.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// logBuffer collects log lines; slog's handlers serialise their writes.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
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

// env is a server over a fresh database.
type env struct {
	logs  *logBuffer
	t     *testing.T
	db    *migrations.DB
	svc   *agenda.Service
	votes *voting.Service
	// minutes and hooks are the minutes and webhooks services the server serves.
	minutes *minutes.Service
	hooks   *webhooks.Service
	srv     *web.Server
	ts      *httptest.Server
	clock   *clock
	reg     *prometheus.Registry
	// tokens verifies the live-room tokens the server issues.
	tokens *signaling.Tokens
}

// roomKey signs live-room tokens in tests.
const roomKey = "a test key for live-room tokens!"

const publicURL = "http://chamber.test"

// logKey signs the vote logs' checkpoints in tests.
var logKey = func() *voting.LogKey {
	k, err := voting.NewLogKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)))
	if err != nil {
		panic(err)
	}
	return k
}()

func newEnv(t *testing.T, db *migrations.DB, ready ...web.Check) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	polls := votingsql.New(db)
	svc := agenda.NewService(sqlstore.New(db), agenda.Options{
		Logger:   log,
		Now:      clk.Now,
		Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1},
		Polls:    polls,
	})
	votes := voting.NewService(polls, svc, voting.Options{Logger: log, Now: clk.Now, LogKey: logKey, Origin: publicURL, MotionDecider: svc})
	mins := minutes.NewService(minutessql.New(db), svc, votes, minutes.Options{Logger: log, Now: clk.Now})
	hooks := webhooks.NewService(webhookssql.New(db), webhooks.Options{Logger: log, Now: clk.Now})
	reg := prometheus.NewRegistry()
	tokens := signaling.NewTokens([]byte(roomKey), clk.Now)
	srv, err := web.New(web.Config{
		Agenda:     svc,
		Voting:     votes,
		Minutes:    mins,
		Webhooks:   hooks,
		Ready:      ready,
		PublicURL:  publicURL,
		Registry:   reg,
		Logger:     log,
		Now:        clk.Now,
		RoomTokens: tokens,
	})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, db: db, svc: svc, votes: votes, minutes: mins, hooks: hooks, srv: srv, ts: ts, clock: clk, reg: reg, logs: logs, tokens: tokens}
}

// checkLogs fails if the log holds a token, a session cookie or one of the secrets, or
// if nothing was logged at all.
func (e *env) checkLogs(secrets ...string) {
	e.t.Helper()
	logs := e.logs.String()
	if !strings.Contains(logs, "http request") {
		e.t.Errorf("no access log lines")
	}
	for _, s := range append([]string{agenda.APITokenPrefix, "chs_", "chl_", "password"}, secrets...) {
		if strings.Contains(logs, s) {
			e.t.Errorf("the log holds %q:\n%s", s, logs)
		}
	}
}

// client makes requests as one caller: the public, a bearer token, or a browser
// session (cookie and CSRF token).
type client struct {
	e      *env
	bearer string
	cookie string
	csrf   string
	header http.Header // added to every request
}

func (e *env) public() *client { return &client{e: e} }

func (e *env) bearer(token string) *client { return &client{e: e, bearer: token} }

// tokenFor gives a user a bearer client without a password, through the service.
func (e *env) tokenFor(userID int64) *client {
	e.t.Helper()
	ctx := context.Background()
	a, err := e.svc.Actor(ctx, userID)
	if err != nil {
		e.t.Fatalf("actor %d: %v", userID, err)
	}
	token, _, err := e.svc.NewAPIToken(ctx, a, "test", 0)
	if err != nil {
		e.t.Fatalf("token for %d: %v", userID, err)
	}
	c := e.bearer(token)
	c.get("/api/v1/me").want(200) // records the token's first use now, not mid-test
	return c
}

type response struct {
	t      *testing.T
	desc   string
	status int
	header http.Header
	body   []byte
}

// request is one request to send.
type request struct {
	method, path string
	body         []byte
	contentType  string
	header       http.Header
}

func (c *client) send(rq request) *response {
	c.e.t.Helper()
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, c.e.ts.URL+rq.path, body)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: c.cookie})
	}
	if c.csrf != "" && rq.method != http.MethodGet {
		req.Header.Set(web.CSRFHeader, c.csrf)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatalf("%s %s: read body: %v", rq.method, rq.path, err)
	}
	return &response{t: c.e.t, desc: rq.method + " " + rq.path, status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *client) get(path string) *response {
	c.e.t.Helper()
	return c.send(request{method: http.MethodGet, path: path})
}

// do sends v as a JSON body (nil for none).
func (c *client) do(method, path string, v any) *response {
	c.e.t.Helper()
	rq := request{method: method, path: path}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rq.body, rq.contentType = b, "application/json"
	}
	return c.send(rq)
}

// want checks the status, reporting the body when it is not what was wanted.
func (r *response) want(status int) *response {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("%s: status %d, want %d; body: %s", r.desc, r.status, status, r.body)
	}
	return r
}

// into decodes the JSON body.
func (r *response) into(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("%s: decode %s: %v", r.desc, r.body, err)
	}
}

// problem checks that the answer is a problem of the named type and status.
func (r *response) problem(status int, name string) web.Problem {
	r.t.Helper()
	var p web.Problem
	if err := checkProblem(r, status, name, &p); err != nil {
		r.t.Fatal(err)
	}
	return p
}

func checkProblem(r *response, status int, name string, p *web.Problem) error {
	if r.status != status {
		return fmt.Errorf("%s: status %d, want %d; body: %s", r.desc, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("%s: Content-Type %q, want application/problem+json", r.desc, ct)
	}
	if err := json.Unmarshal(r.body, p); err != nil {
		return fmt.Errorf("%s: decode problem %s: %v", r.desc, r.body, err)
	}
	if want := publicURL + "/problems/" + name; p.Type != want {
		return fmt.Errorf("%s: problem type %q, want %q; body: %s", r.desc, p.Type, want, r.body)
	}
	if p.Status != status || p.Title == "" {
		return fmt.Errorf("%s: problem status %d title %q; body: %s", r.desc, p.Status, p.Title, r.body)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		return fmt.Errorf("%s: 401 without WWW-Authenticate: Bearer", r.desc)
	}
	return nil
}

// login signs in by email and password in cookie mode and returns a browser client.
func (e *env) login(email, password string) *client {
	e.t.Helper()
	r := e.public().do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password, "mode": "cookie"}).want(200)
	var out web.LoginResponse
	r.into(&out)
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == web.SessionCookie {
			cookie = ck
		}
	}
	if cookie == nil {
		e.t.Fatalf("login: no %s cookie in %v", web.SessionCookie, r.header)
	}
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		e.t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax, Path=/", cookie)
	}
	if out.CSRFToken == "" {
		e.t.Fatalf("login: no CSRF token in %s", r.body)
	}
	return &client{e: e, cookie: cookie.Value, csrf: out.CSRFToken}
}

// snapshot is every row of every table, to check that a refused request wrote nothing.
func (e *env) snapshot() map[string][]string {
	e.t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if e.db.Dialect == migrations.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	if err := e.db.Select(&tables, q); err != nil {
		e.t.Fatalf("list tables: %v", err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		if strings.HasPrefix(table, "goose") {
			continue
		}
		rows, err := e.db.Queryx(`SELECT * FROM ` + table)
		if err != nil {
			e.t.Fatalf("read %s: %v", table, err)
		}
		var lines []string
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				e.t.Fatalf("read %s: %v", table, err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		rows.Close()
		slices.Sort(lines)
		out[table] = lines
	}
	return out
}

func diffSnapshots(before, after map[string][]string) string {
	var b strings.Builder
	for table, rows := range after {
		if !slices.Equal(before[table], rows) {
			fmt.Fprintf(&b, "table %s changed:\n  before %q\n  after  %q\n", table, before[table], rows)
		}
	}
	return b.String()
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func query(v url.Values) string { return "?" + v.Encode() }
