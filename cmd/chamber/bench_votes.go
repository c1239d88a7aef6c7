package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web"
)

// benchVotes measures casting under load: chamber bench votes. It starts `chamber
// serve` as a child process (on a throwaway SQLite data directory, or in a fresh schema
// of the PostgreSQL database given) or targets a running server; sets up a committee of
// voters through the API, each with a device key it enrols and the admin approves; then
// opens polls one after another, and in each every voter casts a signed ballot at once,
// each from its own connection, as a chamber full of devices would. It prints progress
// to stderr and, last on stdout, one JSON object with the figures, among them
// limit_ballots_per_s: what the same database does for the same crowd when each
// ballot costs only a signature check and one committed insert; and
// transport_ballots_per_s: what HTTP and the signature check alone come to on this
// machine, the same crowd posting the same ballots to a server that only checks them.
func benchVotes(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("bench votes", e)
	voters := fs.Int("voters", 150, "voters, each casting one ballot in each poll, all at once")
	polls := fs.Int("polls", 10, "polls, opened one after another")
	warmup := fs.Int("warmup", 5, "polls before those measured, to warm the server up (a fresh process faults its heap in over its first few hundred ballots, and opens its connections to the database); their ballots are checked, and their p99 reported apart (warmup_p99_ms)")
	databaseURL := fs.String("database-url", "", "PostgreSQL URL: the server runs in a fresh schema there, dropped afterwards (default: a throwaway SQLite data directory); with --server, where to measure the limit")
	server := fs.String("server", "", "URL of a running server to measure instead (with --token, an admin's API token)")
	token := fs.String("token", "", "an admin's API token for --server")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the server over the bursts to this file (go tool pprof FILE)")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("bench votes takes no arguments, got %q", fs.Args())
	case *voters < 1 || *polls < 1 || *warmup < 0:
		return usagef("--voters and --polls must be at least 1, --warmup at least 0")
	case *server != "" && *token == "":
		return usagef("--server needs --token, an admin's API token")
	case *server == "" && *token != "":
		return usagef("--token goes with --server")
	case *server != "" && *cpuProfile != "":
		return usagef("--cpu-profile profiles the server the bench starts, not one given with --server")
	}
	raiseVoteFileLimit()
	say := func(format string, args ...any) { fmt.Fprintf(e.stderr, "bench votes: "+format+"\n", args...) }

	res := voteBenchResult{Voters: *voters, Polls: *polls, WarmupPolls: *warmup, Database: "sqlite"}
	var profiling *voteServer // the server to profile, if asked
	var db migrations.Config
	base, adminToken := *server, *token
	if base == "" {
		work, err := os.MkdirTemp("", "chamber-bench-votes-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(work)
		db = migrations.Config{DataDir: filepath.Join(work, "data")}
		if *databaseURL != "" {
			res.Database = "postgres"
			schemaURL, drop, err := freshVoteSchema(ctx, *databaseURL)
			if err != nil {
				return err
			}
			if u, err := url.Parse(schemaURL); err == nil {
				say("working in schema %s, dropped at the end", u.Query().Get("search_path"))
			}
			defer func() {
				if err := drop(); err != nil {
					say("dropping the bench schema: %v", err)
				}
			}()
			db = migrations.Config{URL: schemaURL}
		}
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		const email, password = "bench-admin@bench.example", "a bench admin's password"
		if err := voteAdminCreate(ctx, bin, db, email, password); err != nil {
			return err
		}
		logs, err := os.Create(filepath.Join(work, "serve.log"))
		if err != nil {
			return err
		}
		defer logs.Close()
		say("starting chamber serve on %s", res.Database)
		var extraEnv []string
		if *cpuProfile != "" {
			abs, err := filepath.Abs(*cpuProfile)
			if err != nil {
				return err
			}
			extraEnv = append(extraEnv, profileEnv+"="+abs)
		}
		srv, err := startVoteServer(ctx, bin, db, logs, "127.0.0.1:0", extraEnv...)
		if err != nil {
			return err
		}
		defer srv.stop()
		if *cpuProfile != "" {
			profiling = srv
		}
		base = srv.url
		if adminToken, err = voteSignIn(ctx, base, email, password); err != nil {
			return err
		}
	} else {
		res.Database = "remote"
		if *databaseURL != "" {
			// The limit is measured in the server's database, in a schema of its own.
			schemaURL, drop, err := freshVoteSchema(ctx, *databaseURL)
			if err != nil {
				return err
			}
			defer func() {
				if err := drop(); err != nil {
					say("dropping the bench schema: %v", err)
				}
			}()
			db = migrations.Config{URL: schemaURL}
		}
	}

	admin, err := newClient(base, adminToken)
	if err != nil {
		return err
	}
	setupStart := time.Now()
	rig, err := setUpVoting(ctx, admin, *voters, *warmup+*polls, func(done int) {
		if done%500 == 0 || done == *voters {
			say("set up %d of %d voters", done, *voters)
		}
	})
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	say("set up %d voters in %s", *voters, time.Since(setupStart).Round(time.Millisecond))

	devices := newVoteCrowd(base, *voters)
	defer devices.close()
	var latencies, warmLatencies []time.Duration
	var receipts []ackedBallot
	var burst time.Duration
	var pollP99s []time.Duration
	var crowdBurstCPU float64
	crowdBurstKnown := true
	for k := range *warmup {
		poll, err := rig.openPoll(ctx, admin, k)
		if err != nil {
			return err
		}
		out := devices.castAll(ctx, rig, poll)
		receipts = append(receipts, out.acked...)
		warmLatencies = append(warmLatencies, out.latencies...)
		if _, err := rig.closePoll(ctx, admin, poll); err != nil {
			return err
		}
		say("warm-up poll %d of %d: %d acknowledged in %s (p99 %s)", k+1, *warmup, len(out.acked),
			out.took.Round(time.Millisecond), votePercentile(out.latencies, 0.99).Round(100*time.Microsecond))
	}
	if profiling != nil {
		if err := signalVoteProfile(profiling.cmd.Process, true); err != nil {
			return err
		}
	}
	cpuBefore, cpuErr := serverCPU(ctx, admin)
	crowdBefore, crowdErr := ownCPU()
	for k := range *polls {
		poll, err := rig.openPoll(ctx, admin, *warmup+k)
		if err != nil {
			return err
		}
		out := devices.castAll(ctx, rig, poll)
		burst += out.took
		crowdBurstCPU += out.cpu
		crowdBurstKnown = crowdBurstKnown && out.cpuKnown
		pollP99s = append(pollP99s, votePercentile(out.latencies, 0.99))
		res.Ballots += *voters
		res.Acked += len(out.acked)
		res.Refused += out.refused
		res.Failed += out.failed
		res.Retries += out.retries
		latencies = append(latencies, out.latencies...)
		receipts = append(receipts, out.acked...)
		if _, err := rig.closePoll(ctx, admin, poll); err != nil {
			return err
		}
		say("poll %d of %d: %d acknowledged in %s (p99 %s)", k+1, *polls, len(out.acked),
			out.took.Round(time.Millisecond), pollP99s[k].Round(100*time.Microsecond))
	}
	if crowdAfter, err := ownCPU(); err == nil && crowdErr == nil && res.Ballots > 0 {
		res.CrowdCPUusPerBallot = voteRound((crowdAfter - crowdBefore) * 1e6 / float64(res.Ballots))
	}
	if crowdBurstKnown && res.Ballots > 0 {
		res.CrowdBurstCPUusPerBallot = voteRound(crowdBurstCPU * 1e6 / float64(res.Ballots))
	}
	if cpuAfter, err := serverCPU(ctx, admin); err == nil && cpuErr == nil && res.Ballots > 0 {
		res.ServerCPUusPerBallot = voteRound((cpuAfter - cpuBefore) * 1e6 / float64(res.Ballots))
	} else {
		say("the server's CPU time is not known: %v", errors.Join(cpuErr, err))
	}
	if profiling != nil {
		if err := signalVoteProfile(profiling.cmd.Process, false); err != nil {
			return err
		}
		say("CPU profile of the server over the bursts: %s", *cpuProfile)
	}
	res.P50ms = voteMillis(votePercentile(latencies, 0.50))
	res.P90ms = voteMillis(votePercentile(latencies, 0.90))
	res.P99ms = voteMillis(votePercentile(latencies, 0.99))
	res.MaxMs = voteMillis(votePercentile(latencies, 1))
	res.PollP99MedianMs = voteMillis(votePercentile(pollP99s, 0.5))
	if len(warmLatencies) > 0 {
		res.WarmupP99ms = voteMillis(votePercentile(warmLatencies, 0.99))
	}
	if burst > 0 {
		res.BallotsPerS = voteRound(float64(res.Acked) / burst.Seconds())
	}

	say("checking every acknowledged ballot against the meeting's record")
	rec, err := rig.record(ctx, admin)
	if err != nil {
		return err
	}
	res.Lost = len(missingBallots(rec, receipts))
	problems := voting.VerifyRecord(rec)
	res.RecordVerifies = len(problems) == 0
	for _, p := range problems[:min(len(problems), 5)] {
		say("record problem: %s", p)
	}

	if db.URL != "" || db.DataDir != "" {
		say("measuring the limit: a signature check and one committed insert per ballot, %d at once", *voters)
		limit, err := measureVoteLimit(ctx, db, *voters, *polls)
		if err != nil {
			return fmt.Errorf("limit: %w", err)
		}
		res.LimitBallotsPerS = voteRound(limit)
	}
	say("measuring the transport: HTTP and a signature check per ballot, no database, %d at once", *voters)
	transport, err := measureVoteTransport(ctx, rig, *polls)
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	res.TransportBallotsPerS = voteRound(transport)
	return json.NewEncoder(e.stdout).Encode(res)
}

// voteBenchResult is the last line chamber bench votes prints.
type voteBenchResult struct {
	Voters      int    `json:"voters"`
	Polls       int    `json:"polls"`
	WarmupPolls int    `json:"warmup_polls"`
	Database    string `json:"database"`
	// Ballots were sent in the polls measured; Acked got a receipt; Lost were
	// acknowledged (in any poll, warm-up included) but are not in the record at their
	// receipt's index; Refused were answered with a refusal; Failed got no answer
	// however often they were sent again; Retries counts sends again.
	Ballots int `json:"ballots"`
	Acked   int `json:"acked"`
	Lost    int `json:"lost"`
	Refused int `json:"refused"`
	Failed  int `json:"failed"`
	Retries int `json:"retries"`
	// Latencies, from sending a ballot to its receipt.
	P50ms float64 `json:"p50_ms"`
	P90ms float64 `json:"p90_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// PollP99MedianMs is the median over the polls measured of each poll's own p99:
	// how a burst usually goes, where p99 over them all is set by the slowest burst
	// or two, which on a shared machine are the ones something else disturbed.
	PollP99MedianMs float64 `json:"poll_p99_median_ms"`
	// WarmupP99ms is p99 over the warm-up polls' ballots, which a freshly started
	// server answers while it is still growing its heap: what the first votes after a
	// restart see.
	WarmupP99ms float64 `json:"warmup_p99_ms,omitempty"`
	// BallotsPerS is the acknowledged ballots over the time the bursts took.
	BallotsPerS float64 `json:"ballots_per_s"`
	// ServerCPUusPerBallot is the server process's CPU time (user and system) over the
	// measured polls, opening and closing them included, per ballot: a figure that a
	// busy machine disturbs less than the latencies, though on a shared virtual machine
	// it too can nearly double when the host is busy.
	ServerCPUusPerBallot float64 `json:"server_cpu_us_per_ballot"`
	// CrowdCPUusPerBallot is this process's CPU time over the same polls, per ballot:
	// what the voters' devices took, on a machine they share with the server unless
	// --server names one elsewhere (0 where it cannot be read).
	CrowdCPUusPerBallot float64 `json:"crowd_cpu_us_per_ballot"`
	// CrowdBurstCPUusPerBallot is the part of it taken while the ballots were in
	// flight, from the moment all were sent until the last answer: what the crowd
	// took from the server while the latencies were measured (0 where it cannot be
	// read). Signing and connecting come before, reading the receipts after.
	CrowdBurstCPUusPerBallot float64 `json:"crowd_burst_cpu_us_per_ballot"`
	LimitBallotsPerS         float64 `json:"limit_ballots_per_s"`
	TransportBallotsPerS     float64 `json:"transport_ballots_per_s"`
	RecordVerifies           bool    `json:"record_verifies"`
}

// serverCPU reads the server's CPU time so far, in seconds, from its metrics.
func serverCPU(ctx context.Context, c *client) (float64, error) {
	body, err := c.get(ctx, "/metrics")
	if err != nil {
		return 0, err
	}
	const name = "process_cpu_seconds_total "
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, name); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no %s in the server's metrics", strings.TrimSpace(name))
}

func voteMillis(d time.Duration) float64 { return voteRound(float64(d) / float64(time.Millisecond)) }

func voteRound(f float64) float64 { return math.Round(f*10) / 10 }

func votePercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// freshVoteSchema makes a new schema in the PostgreSQL database at rawURL and returns the
// URL that puts the server in it, and a function that drops it.
func freshVoteSchema(ctx context.Context, rawURL string) (string, func() error, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, usagef("--database-url must be a postgres:// URL")
	}
	conn, err := sqlx.ConnectContext(ctx, "postgres", rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", migrations.Redact(rawURL), err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "chamber_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		conn.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		defer conn.Close()
		_, err := conn.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		return err
	}
	return u.String(), drop, nil
}

// voteServeArgs are the flags that put a child server on db.
func voteServeArgs(db migrations.Config) []string {
	if db.URL != "" {
		return []string{"--database-url", db.URL}
	}
	return []string{"--database-url=", "--data-dir", db.DataDir}
}

// voteChildEnv is this process's environment without CHAMBER_ settings, so that a child
// runs on the flags it is given.
func voteChildEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "CHAMBER_") })
}

// voteAdminCreate runs chamber admin create as a child process.
func voteAdminCreate(ctx context.Context, bin string, db migrations.Config, email, password string) error {
	cmd := exec.CommandContext(ctx, bin, append([]string{"admin", "create", "--email", email, "--name", "Bench Admin", "--password-stdin"},
		voteServeArgs(db)...)...)
	cmd.Env = voteChildEnv()
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chamber admin create: %v: %s", err, out)
	}
	return nil
}

// voteServer is `chamber serve` running as a child process.
type voteServer struct {
	cmd  *exec.Cmd
	url  string // where to reach it
	port string
	done chan struct{} // closed when it has exited
}

// startVoteServer starts chamber serve on db, listening on addr ("127.0.0.1:0": a free
// loopback port), and waits until it listens. Its log goes to logs. Its url is the
// loopback address it listens on; port is the port, on which a server restarted on the
// same data must listen again: the server's public URL (http://localhost:PORT) names
// each meeting's vote log.
func startVoteServer(ctx context.Context, bin string, db migrations.Config, logs io.Writer, addr string, env ...string) (*voteServer, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--rtc-udp-port", "0", "--rtc-udp-host", "127.0.0.1"},
		voteServeArgs(db)...)...)
	cmd.Env = append(voteChildEnv(), env...)
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start chamber serve: %w", err)
	}
	p := &voteServer{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "chamber listening on "); ok {
				found <- u
				break
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(p.done)
	}()
	select {
	case public := <-found:
		u, err := url.Parse(public)
		if err != nil || u.Port() == "" {
			p.kill()
			return nil, fmt.Errorf("chamber serve listens on %q, not a URL with a port", public)
		}
		p.port = u.Port()
		p.url = "http://127.0.0.1:" + p.port
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("chamber serve exited before listening (%v)", cmd.ProcessState)
	case <-time.After(60 * time.Second):
		p.kill()
		return nil, errors.New("chamber serve did not listen within a minute")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// stop asks the server to shut down (SIGTERM) and waits for it.
func (p *voteServer) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.kill()
	}
}

// kill ends the server at once (SIGKILL), as a crash would, and waits for it.
func (p *voteServer) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// voteSignIn signs in by password for an API token.
func voteSignIn(ctx context.Context, base, email, password string) (string, error) {
	c, err := newClient(base, "")
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	err = c.call(ctx, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password,
		"mode": "token", "token_name": "bench"}, "", &out)
	return out.Token, err
}

// votingRig is a committee ready to vote, set up through the API as a clerk would: a
// council, a committee of voters (the first in the chair), each with an approved
// device key and an API token, and a meeting in progress with everyone in the room
// and an item for each poll.
type votingRig struct {
	base    string
	meeting int64
	items   []int64
	voters  []rigVoter
}

type rigVoter struct {
	id    int64
	token string
	key   ed25519.PrivateKey
}

// setUpVoting builds a rig of n voters and polls items with admin, calling progress
// after each voter.
func setUpVoting(ctx context.Context, admin *client, n, polls int, progress func(done int)) (*votingRig, error) {
	rig := &votingRig{base: admin.base.String(), voters: make([]rigVoter, n)}
	var council, committee struct {
		ID int64 `json:"id"`
	}
	var b [4]byte
	rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	if err := admin.call(ctx, "POST", "/api/v1/councils", map[string]string{"name": "Bench Council " + tag}, "", &council); err != nil {
		return nil, err
	}
	// Any number present is a quorum, so that a handful of voters can vote.
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/councils/%d/committees", council.ID), map[string]any{
		"name": "Bench Committee", "profile": "wales", "overrides": map[string]any{"quorum": map[string]int{"num": 1, "den": 4, "min": 1}},
	}, "", &committee); err != nil {
		return nil, err
	}
	var meeting struct {
		ID int64 `json:"id"`
	}
	if err := admin.call(ctx, "POST", "/api/v1/meetings", map[string]any{"committee_id": committee.ID, "title": "Bench meeting",
		"starts_at": time.Now().UTC().Format(time.RFC3339), "published": true}, "", &meeting); err != nil {
		return nil, err
	}
	rig.meeting = meeting.ID
	for k := range polls {
		var item struct {
			ID int64 `json:"id"`
		}
		if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/items", meeting.ID),
			map[string]string{"number": fmt.Sprint(k + 1), "title": fmt.Sprintf("Motion %d", k+1)}, "", &item); err != nil {
			return nil, err
		}
		rig.items = append(rig.items, item.ID)
	}
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/start", meeting.ID), nil, "", nil); err != nil {
		return nil, err
	}

	var done atomic.Int64
	err := voteEach(ctx, n, 16, func(i int) error {
		v, err := rig.addVoter(ctx, admin, council.ID, committee.ID, i, tag)
		if err != nil {
			return fmt.Errorf("voter %d: %w", i, err)
		}
		rig.voters[i] = v
		progress(int(done.Add(1)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rig, nil
}

// voteEach calls fn(0) … fn(n-1) on at most workers goroutines, and returns the first
// error.
func voteEach(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// addVoter adds voter i as a councillor on the committee, signs them in with a link
// the admin makes, makes them an API token, enrols a device key they generate, has the
// admin approve it and records them in the room.
func (rig *votingRig) addVoter(ctx context.Context, admin *client, council, committee int64, i int, tag string) (rigVoter, error) {
	var p struct {
		UserID int64 `json:"id"`
	}
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/councils/%d/people", council), map[string]string{
		"name": fmt.Sprintf("Voter %d", i+1), "email": fmt.Sprintf("voter-%d-%s@bench.example", i+1, tag), "role": "councillor",
	}, "", &p); err != nil {
		return rigVoter{}, err
	}
	role := "member"
	if i == 0 {
		role = "chair"
	}
	if err := admin.call(ctx, "PUT", fmt.Sprintf("/api/v1/committees/%d/members/%d", committee, p.UserID),
		map[string]string{"role": role}, "", nil); err != nil {
		return rigVoter{}, err
	}
	token, err := voteTokenByLink(ctx, admin, p.UserID)
	if err != nil {
		return rigVoter{}, err
	}
	me, err := newClient(rig.base, token)
	if err != nil {
		return rigVoter{}, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return rigVoter{}, err
	}
	var k voting.Key
	if err := me.call(ctx, "POST", "/api/v1/me/keys", map[string]string{"public_key": voting.EncodePublicKey(pub), "label": "bench"}, "", &k); err != nil {
		return rigVoter{}, err
	}
	if err := admin.call(ctx, "POST", "/api/v1/keys/"+string(k.ID)+"/approve", nil, "", nil); err != nil {
		return rigVoter{}, err
	}
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/attendance", rig.meeting),
		map[string]any{"user_id": p.UserID, "mode": "in_room"}, "", nil); err != nil {
		return rigVoter{}, err
	}
	return rigVoter{id: p.UserID, token: token, key: priv}, nil
}

// voteTokenByLink gets an API token for a user as a person would without a password: the
// admin makes a sign-in link, the link starts a browser session, and the session makes
// an API token.
func voteTokenByLink(ctx context.Context, admin *client, user int64) (string, error) {
	var link struct {
		URL string `json:"url"`
	}
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/users/%d/sign-in-links", user), map[string]string{"redirect": "/"}, "", &link); err != nil {
		return "", err
	}
	// The link's host is the server's public URL; go to the server itself.
	u, err := url.Parse(link.URL)
	if err != nil {
		return "", err
	}
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, "GET", admin.base.JoinPath(u.Path).String(), nil)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	var session string
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie {
			session = c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		return "", fmt.Errorf("sign-in link: status %d, no session", resp.StatusCode)
	}
	browse := func(method, path string, body any, csrf string, out any) error {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, admin.base.JoinPath(path).String(), bytes.NewReader(raw))
		if body == nil {
			req.Body = http.NoBody
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: session})
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, data)
		}
		return json.Unmarshal(data, out)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := browse("GET", "/api/v1/me", nil, "", &me); err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := browse("POST", "/api/v1/me/tokens", map[string]string{"name": "voting device"}, me.CSRF, &tok); err != nil {
		return "", err
	}
	return tok.Token, nil
}

// openPoll moves the meeting to the k-th item and opens a poll on it.
func (rig *votingRig) openPoll(ctx context.Context, admin *client, k int) (voting.PollView, error) {
	var p voting.PollView
	if err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/current", rig.meeting),
		map[string]int64{"item_id": rig.items[k]}, "", nil); err != nil {
		return p, err
	}
	err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/polls", rig.meeting), map[string]any{"recorded": true}, "", &p)
	return p, err
}

func (rig *votingRig) closePoll(ctx context.Context, admin *client, p voting.PollView) (voting.PollView, error) {
	var out voting.PollView
	err := admin.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/polls/%d/close", p.Meeting, p.ID), nil, "", &out)
	return out, err
}

func (rig *votingRig) record(ctx context.Context, admin *client) (*voting.Record, error) {
	var raw json.RawMessage
	if err := admin.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/record", rig.meeting), nil, "", &raw); err != nil {
		return nil, err
	}
	return voting.ParseRecord(raw)
}

// ballot signs voter v's ballot in p.
func (v rigVoter) ballot(p voting.PollView, choice string) ([]byte, error) {
	b := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: v.id, Choice: choice,
		CastAt: time.Now(), Challenge: p.Challenge}
	rand.Read(b.Nonce[:])
	sb, err := voting.SignBallot(b, v.key)
	if err != nil {
		return nil, err
	}
	return json.Marshal(sb)
}

// ackedBallot is a ballot the server acknowledged, with its receipt.
type ackedBallot struct {
	body    []byte // the signed ballot as sent
	receipt voting.Receipt
}

// missingBallots returns the acknowledged ballots that are not in the record at their
// receipt's index.
func missingBallots(rec *voting.Record, acked []ackedBallot) []ackedBallot {
	at := map[[32]byte]int64{}
	for _, rp := range rec.Polls {
		for _, b := range rp.Ballots {
			at[b.Hash()] = b.Index
		}
	}
	var out []ackedBallot
	for _, a := range acked {
		var sb voting.SignedBallot
		json.Unmarshal(a.body, &sb)
		if i, ok := at[sb.Hash()]; !ok || i != a.receipt.Index {
			out = append(out, a)
		}
	}
	return out
}

// voteCrowd is the voters' devices: each keeps its own connection to the server.
type voteCrowd struct {
	base    func() string
	clients []*http.Client
}

func newVoteCrowd(base string, n int) *voteCrowd {
	c := &voteCrowd{base: func() string { return base }}
	for range n {
		c.clients = append(c.clients, &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     5 * time.Minute,
		}})
	}
	return c
}

func (c *voteCrowd) close() {
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
	}
}

// voteBurst is what one burst came to.
type voteBurst struct {
	acked     []ackedBallot
	latencies []time.Duration
	refused   int
	failed    int
	retries   int
	took      time.Duration
	// cpu is this process's CPU time from sending to the last answer, in seconds;
	// cpuKnown says whether it could be read.
	cpu      float64
	cpuKnown bool
}

// castAll has every voter cast a ballot in p at the same moment: each signs theirs and
// opens its connection first, then all send at once. A ballot that gets no answer is
// sent again, the same bytes, until it does.
func (c *voteCrowd) castAll(ctx context.Context, rig *votingRig, p voting.PollView) voteBurst {
	n := len(rig.voters)
	bodies := make([][]byte, n)
	for i, v := range rig.voters {
		choice := voting.OptionFor
		if i%3 == 1 {
			choice = voting.OptionAgainst
		}
		bodies[i], _ = v.ballot(p, choice)
	}
	path := fmt.Sprintf("/api/v1/meetings/%d/polls/%d/ballots", p.Meeting, p.ID)
	// Each device connects before the poll opens, as a page in a browser has.
	voteEach(ctx, n, 64, func(i int) error {
		if resp, err := c.clients[i].Get(c.base() + "/healthz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil
	})
	var mu sync.Mutex
	var out voteBurst
	answers := make([][]byte, n)
	took := make([]time.Duration, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			data, retries, status, err := votePost(ctx, c.clients[i], c.base, rig.voters[i].token, path, bodies[i])
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			out.retries += retries
			switch {
			case err == nil:
				answers[i], took[i] = data, d
			case status != 0:
				out.refused++
			default:
				out.failed++
			}
		})
	}
	cpu0, err0 := ownCPU()
	t0 := time.Now()
	close(start)
	wg.Wait()
	out.took = time.Since(t0)
	if cpu1, err1 := ownCPU(); err0 == nil && err1 == nil {
		out.cpu, out.cpuKnown = cpu1-cpu0, true
	}
	// The receipts are read now that everyone has theirs; one that does not read is
	// no acknowledgement.
	for i, data := range answers {
		if data == nil {
			continue
		}
		var r voting.Receipt
		if err := json.Unmarshal(data, &r); err != nil {
			out.failed++
			continue
		}
		out.acked = append(out.acked, ackedBallot{body: bodies[i], receipt: r})
		out.latencies = append(out.latencies, took[i])
	}
	return out
}

// voteSend posts a signed ballot until it gets an answer: a receipt, or a refusal
// (status is then its HTTP status). Connection failures and server errors are sent
// again, the same bytes, which the server answers with the first receipt if it had
// taken the ballot. base is read afresh each time, as the server may have moved.
func voteSend(ctx context.Context, hc *http.Client, base func() string, token, path string, body []byte) (r voting.Receipt, retries, status int, err error) {
	data, retries, status, err := votePost(ctx, hc, base, token, path, body)
	if err != nil {
		return r, retries, status, err
	}
	err = json.Unmarshal(data, &r)
	return r, retries, 0, err
}

// votePost is voteSend without reading the receipt: the answer's body as it came,
// for a crowd that reads its receipts once everyone has had theirs, so that the bench
// spends no CPU on them while the server is still answering.
func votePost(ctx context.Context, hc *http.Client, base func() string, token, path string, body []byte) (data []byte, retries, status int, err error) {
	backoff := 10 * time.Millisecond
	for {
		req, _ := http.NewRequestWithContext(ctx, "POST", base()+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err == nil {
			data, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
			case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
				return data, retries, 0, nil
			case resp.StatusCode < 500:
				return nil, retries, resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, data)
			}
		}
		if ctx.Err() != nil {
			return nil, retries, 0, ctx.Err()
		}
		retries++
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, retries, 0, ctx.Err()
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// measureVoteTransport measures what HTTP and the signature check alone allow: the
// same crowd, each voter on its own connection, posts its ballots, polls bursts of
// them, to a server on loopback that opens each ballot, checks its signature and
// answers with a receipt of the usual size, with no database and nothing else.
func measureVoteTransport(ctx context.Context, rig *votingRig, polls int) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	proof := make([]string, 12) // a receipt's proof, in a log of some thousands
	for i := range proof {
		proof[i] = strings.Repeat("A", 43) + "="
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sb voting.SignedBallot
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&sb); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := sb.Open(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"index": 1, "proof": proof,
			"checkpoint": "chamber.bench/meetings/1\n2\n" + strings.Repeat("A", 43) + "=\n\n— chamber.bench " + strings.Repeat("A", 87) + "=\n"})
	})}
	go srv.Serve(ln)
	defer srv.Close()
	crowd := newVoteCrowd("http://"+ln.Addr().String(), len(rig.voters))
	defer crowd.close()
	var acked int
	var took time.Duration
	for k := range polls {
		// Ballots for a poll that does not exist: the server here does not ask.
		out := crowd.castAll(ctx, rig, voting.PollView{Poll: voting.Poll{PollOpening: voting.PollOpening{ID: int64(1000 + k), Meeting: 1, Item: 1}}})
		if out.failed+out.refused > 0 {
			return 0, fmt.Errorf("%d ballots refused and %d failed", out.refused, out.failed)
		}
		acked += len(out.acked)
		took += out.took
	}
	return float64(acked) / took.Seconds(), nil
}

// measureVoteLimit measures what the database itself allows: n workers at once, each
// taking polls ballots in turn, and for each checking an Ed25519 signature and
// committing one insert, with nothing else. The table it fills is dropped after.
func measureVoteLimit(ctx context.Context, cfg migrations.Config, n, polls int) (float64, error) {
	db, err := migrations.Connect(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var b [4]byte
	rand.Read(b[:])
	table := "bench_limit_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, `CREATE TABLE `+table+` (id INTEGER PRIMARY KEY, ballot TEXT NOT NULL, signature TEXT NOT NULL)`); err != nil {
		return 0, err
	}
	defer db.ExecContext(context.WithoutCancel(ctx), `DROP TABLE `+table)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	type signed struct{ msg, sig []byte }
	ballots := make([]signed, n*polls)
	for i := range ballots {
		msg := make([]byte, 170)
		rand.Read(msg)
		ballots[i] = signed{msg, ed25519.Sign(priv, msg)}
	}
	insert := db.Rebind(`INSERT INTO ` + table + ` (id, ballot, signature) VALUES (?, ?, ?)`)
	var total time.Duration
	for k := range polls {
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				id := k*n + i
				s := ballots[id]
				if !ed25519.Verify(pub, s.msg, s.sig) {
					errs[i] = errors.New("signature does not verify")
					return
				}
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					errs[i] = err
					return
				}
				if _, err := tx.ExecContext(ctx, insert, id+1, hex.EncodeToString(s.msg), hex.EncodeToString(s.sig)); err != nil {
					tx.Rollback()
					errs[i] = err
					return
				}
				errs[i] = tx.Commit()
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		total += time.Since(t0)
		if err := errors.Join(errs...); err != nil {
			return 0, err
		}
	}
	return float64(n*polls) / total.Seconds(), nil
}
