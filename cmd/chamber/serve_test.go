package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chamber/chamber/migrations/dbtest"
)

// server is a `chamber serve` running in this process.
type server struct {
	url    string
	links  map[string]string // demo role → URL
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer calls run with serve and args on 127.0.0.1:0 and waits until it listens.
func startServer(t *testing.T, getenv func(string) string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{cancel: cancel, done: make(chan error, 1), links: map[string]string{}, stderr: &syncBuffer{}}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--rtc-udp-port", "0"}, args...), getenv, strings.NewReader(""), pw, s.stderr)
		pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "chamber listening on "); ok {
			s.url = u
			break
		}
		if role, link, ok := strings.Cut(line, ": "); ok {
			s.links[role] = link
		}
	}
	if s.url == "" {
		cancel()
		t.Fatalf("server did not start: %v\nlog:\n%s", <-s.done, s.stderr.String())
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels the server's context (as SIGTERM does) and checks it shut down cleanly.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v\nlog:\n%s", err, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("serve did not shut down within 20s")
	}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

type meetingPage struct {
	Items []struct {
		ID        int64  `json:"id"`
		Title     string `json:"title"`
		Published bool   `json:"published"`
	} `json:"items"`
}

func TestServe(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} }},
		{"postgres-redis", func(t *testing.T) []string {
			return []string{"--database-url", dbtest.PostgresURL(t), "--redis-url", dbtest.RedisURL(t), "--data-dir", t.TempDir()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args(t)
			s := startServer(t, nil, append(args, "--demo")...)
			for _, role := range []string{"clerk", "chair", "councillor", "public"} {
				if s.links[role] == "" {
					t.Errorf("demo printed no %q line; got %v", role, s.links)
				}
			}
			c := &http.Client{Timeout: 10 * time.Second}
			for _, path := range []string{"/healthz", "/readyz"} {
				if resp, body := get(t, c, s.url+path); resp.StatusCode != 200 {
					t.Errorf("GET %s: got %d %s, want 200", path, resp.StatusCode, body)
				}
			}
			resp, body := get(t, c, s.url+"/metrics")
			if resp.StatusCode != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_cpu_seconds_total") {
				t.Errorf("GET /metrics: got %d, want Prometheus text with Go and process metrics", resp.StatusCode)
			}
			var list meetingPage
			resp, body = get(t, c, s.url+"/api/v1/meetings")
			if resp.StatusCode != 200 {
				t.Fatalf("GET /api/v1/meetings: %d %s", resp.StatusCode, body)
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Items) != 1 || list.Items[0].Title != "Planning Committee" {
				t.Fatalf("GET /api/v1/meetings: got %s (%v), want the demo meeting", body, err)
			}

			// A sign-in link signs the clerk in.
			jar, _ := cookiejar.New(nil)
			bc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
			if resp, body := get(t, bc, s.links["clerk"]); resp.StatusCode != 200 {
				t.Fatalf("following the clerk's link: got %d %s", resp.StatusCode, body)
			}
			resp, body = get(t, bc, s.url+"/api/v1/me")
			if resp.StatusCode != 200 || !strings.Contains(body, "clerk@cwm-derwen.example") {
				t.Errorf("GET /api/v1/me after the clerk's link: got %d %s", resp.StatusCode, body)
			}

			// Data survives a restart, and the demo is not seeded twice.
			s.stop(t)
			s2 := startServer(t, nil, append(args, "--demo")...)
			resp, body = get(t, c, s2.url+"/api/v1/meetings")
			if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != 200 || err != nil || len(list.Items) != 1 {
				t.Errorf("after restart: got %d %s, want the one demo meeting", resp.StatusCode, body)
			}
			if s2.links["clerk"] == "" || s2.links["clerk"] == s.links["clerk"] {
				t.Errorf("after restart: want a fresh clerk link, got %q", s2.links["clerk"])
			}
		})
	}
}

func TestServeReadsEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHAMBER_DATA_DIR": dir, "CHAMBER_LOG_FORMAT": "json", "CHAMBER_PUBLIC_URL": "https://meetings.example.gov.uk/"}
	s := startServer(t, func(k string) string { return env[k] })
	if s.url != "https://meetings.example.gov.uk" {
		t.Errorf("public URL: got %q, want it from CHAMBER_PUBLIC_URL", s.url)
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), `"msg":"chamber listening"`) {
		t.Errorf("want JSON logs from CHAMBER_LOG_FORMAT=json, got:\n%s", s.stderr.String())
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"log format", []string{"--log-format", "xml"}, "--log-format"},
		{"public url", []string{"--public-url", "ftp://x"}, "--public-url"},
		{"database url", []string{"--database-url", "mysql://localhost/x"}, "postgres://"},
		{"stray argument", []string{"extra"}, "no arguments"},
		{"unknown flag", []string{"--colour"}, "colour"},
		{"udp port", []string{"--rtc-udp-port", "70000"}, "--rtc-udp-port"},
		{"public ip", []string{"--rtc-public-ip", "example.org"}, "--rtc-public-ip"},
		{"ice server", []string{"--ice-servers", "http://stun.example.org"}, "--ice-servers"},
		{"turn without credentials", []string{"--ice-servers", "turn:turn.example.org:3478"}, "--turn-username"},
		{"origin with a path", []string{"--allow-origins", "https://council.example.gov.uk/meetings"}, "--allow-origins"},
		{"origin without a scheme", []string{"--allow-origins", "council.example.gov.uk"}, "--allow-origins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)
			err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestServeAllowsOrigins opens the live rooms' WebSocket with the Origin header a page
// sends: the server's own origin and those --allow-origins names may, any other may not.
func TestServeAllowsOrigins(t *testing.T) {
	s := startServer(t, nil, "--data-dir", t.TempDir(), "--allow-origins", "https://meetings.example.gov.uk, http://127.0.0.1:9")
	ws := "ws" + strings.TrimPrefix(s.url, "http") + "/api/v1/rtc"
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{s.url, true},
		{"https://meetings.example.gov.uk", true},
		{"http://127.0.0.1:9", true},
		{"https://elsewhere.example.org", false},
		{"http://meetings.example.gov.uk", false},
	} {
		h := http.Header{"Origin": {tc.origin}}
		conn, resp, err := websocket.DefaultDialer.Dial(ws, h)
		if conn != nil {
			conn.Close()
		}
		switch {
		case tc.ok && err != nil:
			t.Errorf("origin %s: %v (status %v), want the upgrade", tc.origin, err, status(resp))
		case !tc.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden):
			t.Errorf("origin %s: %v (status %v), want 403", tc.origin, err, status(resp))
		}
	}
}

func status(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// TestDatabaseIdleClose checks --database-idle-close: by default a PostgreSQL
// connection is kept however long it is idle; the flag or CHAMBER_DATABASE_IDLE_CLOSE
// sets how long it may be.
func TestDatabaseIdleClose(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		environ map[string]string
		want    time.Duration
	}{
		{nil, nil, 0},
		{[]string{"--database-idle-close", "10m"}, nil, 10 * time.Minute},
		{nil, map[string]string{"CHAMBER_DATABASE_IDLE_CLOSE": "90s"}, 90 * time.Second},
	} {
		e := env{getenv: func(k string) string { return tc.environ[k] }, stdout: io.Discard, stderr: io.Discard}
		fs := newFlagSet("serve", e)
		db := addDBFlags(fs)
		if err := parse(fs, e, tc.args); err != nil {
			t.Fatalf("%q %v: %v", tc.args, tc.environ, err)
		}
		if got := db.config(nil).IdleClose; got != tc.want {
			t.Errorf("%q %v: IdleClose %s, want %s", tc.args, tc.environ, got, tc.want)
		}
	}
}
