package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// roomServer is the server under test: a `chamber serve` child process the bench
// started, or one already running (pid 0).
type roomServer struct {
	url   string
	token string // an admin's API token
	pid   int

	cmd     *exec.Cmd
	dataDir string
	logs    *roomLogTail
	exited  chan struct{}
	waitErr error
}

// startRoomServer starts `chamber serve --demo` on loopback with a throwaway data directory
// and an admin, and signs the admin in. profile, if not empty, is passed on for the
// child to write a CPU profile of the measured window to.
func startRoomServer(ctx context.Context, udpHost, profile string) (*roomServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the chamber binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "chamber-bench-room-")
	if err != nil {
		return nil, err
	}
	s := &roomServer{dataDir: dir, logs: &roomLogTail{max: 64 << 10}, exited: make(chan struct{})}
	fail := func(err error) (*roomServer, error) {
		s.stop()
		return nil, err
	}

	// The child is configured by its flags alone: settings for another server in the
	// environment (CHAMBER_DATABASE_URL, …) must not reach it.
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHAMBER_") {
			environ = append(environ, kv)
		}
	}
	email, password := "bench@bench.example", roomRandomHex(16)
	admin := exec.CommandContext(ctx, self, "admin", "create", "--data-dir", dir,
		"--email", email, "--name", "Bench Admin", "--password-stdin")
	admin.Env = environ
	admin.Stdin = strings.NewReader(password + "\n")
	if out, err := admin.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("chamber admin create: %w\n%s", err, out))
	}

	s.cmd = exec.Command(self, "serve", "--demo", "--addr", "127.0.0.1:0", "--rtc-udp-port", "0",
		"--rtc-udp-host", udpHost, "--data-dir", dir)
	s.cmd.Env = environ
	if profile != "" {
		s.cmd.Env = append(s.cmd.Env, profileEnv+"="+profile)
	}
	s.cmd.Stderr = s.logs
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start chamber serve: %w", err))
	}
	s.pid = s.cmd.Process.Pid
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "chamber listening on "); ok {
				listening <- u
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.url = <-listening:
	case <-s.exited:
		return fail(fmt.Errorf("chamber serve exited: %v\n%s", s.waitErr, s.logs))
	case <-time.After(60 * time.Second):
		return fail(fmt.Errorf("chamber serve did not start listening within a minute\n%s", s.logs))
	case <-ctx.Done():
		return fail(ctx.Err())
	}

	c, err := newClient(s.url, "")
	if err != nil {
		return fail(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/login", map[string]string{
		"email": email, "password": password, "mode": "token", "token_name": "bench",
	}, "", &login); err != nil {
		return fail(fmt.Errorf("sign in as the bench admin: %w", err))
	}
	s.token = login.Token
	return s, nil
}

// profile starts or stops the child's CPU profile.
func (s *roomServer) profile(start bool) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("no child process")
	}
	return signalProfile(s.cmd.Process, start)
}

// stop ends the child (SIGTERM, then SIGKILL after a while) and removes its data.
func (s *roomServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.dataDir != "" {
		os.RemoveAll(s.dataDir)
	}
}

// cpuSeconds is the server's CPU time so far: from /proc for the child, or from its
// own process_cpu_seconds_total otherwise.
func (s *roomServer) cpuSeconds(ctx context.Context, m roomMetrics) (float64, error) {
	if s.pid == 0 {
		v, ok := m["process_cpu_seconds_total"]
		if !ok {
			return 0, errors.New("the server's /metrics has no process_cpu_seconds_total")
		}
		return v, nil
	}
	return procCPUSeconds(s.pid)
}

// procCPUSeconds reads a process's user and system time from /proc/PID/stat.
func procCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: count fields after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ... utime(14) stime(15), so fields 11 and 12 here.
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return float64(utime+stime) / procClockTicks, nil
}

// udpReceiveErrors is this machine's count of UDP datagrams dropped on receipt (full
// socket buffers and the like), from /proc/net/snmp; 0 if it cannot be read.
func udpReceiveErrors() float64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "Udp: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "InErrors" && i < len(f) {
				v, _ := strconv.ParseFloat(f[i], 64)
				return v
			}
		}
	}
	return 0
}

// procClockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux port Go runs on.
const procClockTicks = 100

// roomMetrics are the samples of a /metrics scrape without labels.
type roomMetrics map[string]float64

func (s *roomServer) scrape(ctx context.Context) (roomMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("scrape metrics: HTTP %d", resp.StatusCode)
	}
	m := roomMetrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.ContainsRune(name, '{') {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			m[name] = v
		}
	}
	return m, sc.Err()
}

// roomMeeting is where the bench's meeting sits.
type roomMeeting struct {
	CouncilID   int64 `json:"council_id"`
	CommitteeID int64 `json:"committee_id"`
}

// addPublisher makes a new councillor, seats them on the meeting's committee, signs
// them in with a sign-in link as a browser would, and has them join the room.
func (s *roomServer) addPublisher(ctx context.Context, admin *client, meeting int64, where roomMeeting, n int) (roomJoin, error) {
	var person struct {
		ID int64 `json:"id"`
	}
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/councils/%d/people", where.CouncilID), map[string]string{
		"name":  fmt.Sprintf("Bench Publisher %d", n),
		"email": fmt.Sprintf("publisher-%d-%s@bench.example", n, roomRandomHex(4)),
		"role":  "councillor",
		"title": "Cllr",
	}, "", &person); err != nil {
		return roomJoin{}, fmt.Errorf("add publisher %d: %w", n, err)
	}
	if err := admin.call(ctx, "PUT", fmt.Sprintf("/api/v1/committees/%d/members/%d", where.CommitteeID, person.ID),
		map[string]string{"role": "member"}, "", nil); err != nil {
		return roomJoin{}, fmt.Errorf("seat publisher %d: %w", n, err)
	}
	var link struct {
		URL string `json:"url"`
	}
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/users/%d/sign-in-links", person.ID),
		map[string]string{"redirect": "/"}, "", &link); err != nil {
		return roomJoin{}, fmt.Errorf("sign-in link for publisher %d: %w", n, err)
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, "GET", link.URL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return roomJoin{}, fmt.Errorf("publisher %d signs in: %w", n, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	browser := &client{base: admin.base, http: hc}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := browser.call(ctx, "GET", "/api/v1/me", nil, "", &me); err != nil {
		return roomJoin{}, fmt.Errorf("publisher %d signs in: %w", n, err)
	}
	req, _ = http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/v1/meetings/%d/join", s.url, meeting), nil)
	req.Header.Set("X-CSRF-Token", me.CSRF)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", admin.base.Scheme+"://"+admin.base.Host)
	var j roomJoin
	if err := roomDoJSON(hc, req, &j); err != nil {
		return roomJoin{}, fmt.Errorf("publisher %d joins: %w", n, err)
	}
	if j.Role != "member" {
		return roomJoin{}, fmt.Errorf("publisher %d joined as %q, want a member", n, j.Role)
	}
	return j, nil
}

// roomJoin is the join endpoint's answer.
type roomJoin struct {
	Token    string `json:"token"`
	URL      string `json:"url"`
	Role     string `json:"role"`
	Identity string `json:"identity"`
}

// roomRateLimited is a 429 from the join endpoint; retryAfter says for how long.
type roomRateLimited struct{ retryAfter time.Duration }

func (e roomRateLimited) Error() string { return "rate limited for " + e.retryAfter.String() }

func roomDoJSON(hc *http.Client, req *http.Request, out any) error {
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return roomRateLimited{time.Duration(max(secs, 1)) * time.Second}
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// roomJoins hands out HTTP clients for the public join endpoint. The endpoint
// limits how often one address may join; a server on loopback is reached from
// several loopback addresses (all of 127.0.0.0/8 is this machine) so that hundreds
// of observers need not queue, and elsewhere a refused join waits as told.
type roomJoins struct {
	mu       sync.Mutex // guards clients
	clients  []*http.Client
	loopback bool
	perAddr  int
}

func newRoomJoins(server string) *roomJoins {
	o := &roomJoins{perAddr: 10}
	// Only Linux answers on all of 127.0.0.0/8 without more ado.
	if u, err := url.Parse(server); err == nil && runtime.GOOS == "linux" {
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			o.loopback = true
		}
	}
	return o
}

// client returns the HTTP client for the n'th observer.
func (o *roomJoins) client(n int) *http.Client {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	if o.loopback {
		i = n / o.perAddr
	}
	for len(o.clients) <= i {
		var d net.Dialer
		d.Timeout = 10 * time.Second
		if o.loopback {
			k := len(o.clients) + 2 // 127.0.0.2 onwards
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, byte(k>>16), byte(k>>8), byte(k))}
		}
		tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4, ForceAttemptHTTP2: false}
		o.clients = append(o.clients, &http.Client{Transport: tr, Timeout: 30 * time.Second})
	}
	return o.clients[i]
}

// join asks for an observer's token, waiting out the rate limit if it must.
func (o *roomJoins) join(ctx context.Context, server string, meeting int64, n int) (roomJoin, error) {
	hc := o.client(n)
	for {
		req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/v1/meetings/%d/join", server, meeting), nil)
		if err != nil {
			return roomJoin{}, err
		}
		var j roomJoin
		err = roomDoJSON(hc, req, &j)
		var rl roomRateLimited
		if errors.As(err, &rl) {
			select {
			case <-time.After(rl.retryAfter):
				continue
			case <-ctx.Done():
				return roomJoin{}, ctx.Err()
			}
		}
		return j, err
	}
}

func (o *roomJoins) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.clients {
		c.CloseIdleConnections()
	}
}

// roomLogTail keeps the last max bytes written to it.
type roomLogTail struct {
	mu  sync.Mutex // guards b
	b   []byte
	max int
}

func (t *roomLogTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *roomLogTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func roomRandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
