package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
)

// killsPerDatabase is how often each durability run kills the server.
const killsPerDatabase = 10

// TestAcknowledgedBallotsSurviveKills runs the real server as a child process and
// kills it (SIGKILL) at random moments while a committee votes, over and over (each
// member changing their vote again as soon as the last ballot is acknowledged),
// restarting it on the same data each time. Members send each ballot until it is
// acknowledged, sending the very same bytes again after a failed connection, as a
// device would. At the end every acknowledged ballot must be in the meeting's record
// at the index its receipt gave, every receipt must verify and its checkpoint be
// consistent with the final one, and the record must verify as a whole.
func TestAcknowledgedBallotsSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it, again and again")
	}
	bin := chamberBinary(t)
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) migrations.Config
	}{
		{"sqlite", func(t *testing.T) migrations.Config {
			return migrations.Config{DataDir: filepath.Join(t.TempDir(), "data")}
		}},
		{"postgres", func(t *testing.T) migrations.Config { return migrations.Config{URL: dbtest.PostgresURL(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) { survivesKills(t, bin, tc.db(t), killsPerDatabase) })
	}
}

func survivesKills(t *testing.T, bin string, db migrations.Config, kills int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logs, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("server log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
	})

	const email, password = "admin@durability.example", "a durable admin password"
	if err := voteAdminCreate(ctx, bin, db, email, password); err != nil {
		t.Fatal(err)
	}
	srv, err := startVoteServer(ctx, bin, db, logs, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[voteServer]
	current.Store(srv)
	defer func() { current.Load().stop() }()
	base := func() string { return current.Load().url }

	token, err := voteSignIn(ctx, srv.url, email, password)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := newClient(srv.url, token)
	if err != nil {
		t.Fatal(err)
	}
	const members = 12
	rig, err := setUpVoting(ctx, admin, members, 1, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	poll, err := rig.openPoll(ctx, admin, 0)
	if err != nil {
		t.Fatal(err)
	}

	// The members vote, and vote again, until told to stop.
	var (
		stop    atomic.Bool
		mu      sync.Mutex // guards acked
		acked   []ackedBallot
		wg      sync.WaitGroup
		retries atomic.Int64
	)
	path := fmt.Sprintf("/api/v1/meetings/%d/polls/%d/ballots", poll.Meeting, poll.ID)
	choices := []string{voting.OptionFor, voting.OptionAgainst, voting.OptionAbstain}
	for _, v := range rig.voters {
		hc := &http.Client{Timeout: 20 * time.Second}
		wg.Go(func() {
			for !stop.Load() {
				body, err := v.ballot(poll, choices[rand.IntN(len(choices))])
				if err != nil {
					t.Error(err)
					return
				}
				r, n, status, err := voteSend(ctx, hc, base, v.token, path, body)
				retries.Add(int64(n))
				if err != nil {
					t.Errorf("member %d: a ballot was refused (status %d): %v", v.id, status, err)
					return
				}
				mu.Lock()
				acked = append(acked, ackedBallot{body: body, receipt: r})
				mu.Unlock()
				time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
			}
		})
	}
	countAcked := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}

	// Kill the server at random moments, each time once ballots are flowing again.
	for i := range kills {
		before := countAcked()
		deadline := time.Now().Add(10 * time.Second)
		for countAcked() < before+members && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(50+rand.IntN(300)) * time.Millisecond)
		current.Load().kill()
		fmt.Fprintf(logs, "--- test: killed the server (kill %d of %d), %d ballots acknowledged so far\n", i+1, kills, countAcked())
		// On the same port: the public URL, which names the meeting's log, stays.
		next, err := startVoteServer(ctx, bin, db, logs, "127.0.0.1:"+srv.port)
		if err != nil {
			stop.Store(true)
			t.Fatalf("restart after kill %d: %v", i+1, err)
		}
		current.Store(next)
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every acknowledged ballot is there, where its receipt says.
	admin, err = newClient(base(), token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rig.closePoll(ctx, admin, poll); err != nil {
		t.Fatal(err)
	}
	rec, err := rig.record(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	var logInfo struct {
		VerifierKey string `json:"verifier_key"`
	}
	if err := admin.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/log", rig.meeting), nil, "", &logInfo); err != nil {
		t.Fatal(err)
	}
	if problems := voting.VerifyRecord(rec, logInfo.VerifierKey); len(problems) != 0 {
		t.Errorf("the record does not verify after %d kills: %v", kills, problems[:min(len(problems), 10)])
	}
	if lost := missingBallots(rec, acked); len(lost) != 0 {
		t.Errorf("%d of %d acknowledged ballots are not in the record where their receipts say", len(lost), len(acked))
	}
	final, err := voting.OpenCheckpoint([]byte(rec.Log.Checkpoint), logInfo.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, rp := range rec.Polls {
		stored += len(rp.Ballots)
	}
	if stored < len(acked) {
		t.Errorf("the record holds %d ballots, fewer than the %d acknowledged", stored, len(acked))
	}
	// Each receipt proves its ballot is in a checkpoint that the final one extends.
	proved := map[int64]bool{}
	for i, a := range acked {
		var sb voting.SignedBallot
		if err := json.Unmarshal(a.body, &sb); err != nil {
			t.Fatal(err)
		}
		leaf, err := voting.EncodeBallotEntry(sb)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := voting.VerifyReceipt(a.receipt, leaf, logInfo.VerifierKey)
		if err != nil {
			t.Errorf("receipt %d does not verify: %v", i, err)
			continue
		}
		if proved[cp.Size] || i%7 != 0 {
			continue // a sample of the checkpoints is enough
		}
		proved[cp.Size] = true
		var cons struct {
			Proof tlog.TreeProof `json:"proof"`
		}
		if err := admin.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/log/consistency?from=%d&to=%d", rig.meeting, cp.Size, final.Size),
			nil, "", &cons); err != nil {
			t.Fatal(err)
		}
		if err := voting.VerifyConsistency(cp, final, cons.Proof); err != nil {
			t.Errorf("receipt %d's checkpoint (size %d) is not extended by the final one (size %d): %v", i, cp.Size, final.Size, err)
		}
	}
	logged, _ := os.ReadFile(logPath)
	t.Logf("%d kills; %d ballots acknowledged (%d sent again after a failure), %d in the record; %d checkpoints proved consistent; %d starts logged",
		kills, len(acked), retries.Load(), stored, len(proved), strings.Count(string(logged), "chamber listening"))
}
