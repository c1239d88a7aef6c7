package main

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/chamber/chamber/migrations/dbtest"
)

// TestBenchVotes runs chamber bench votes with a handful of voters, on SQLite and in
// a schema of its own on PostgreSQL, and checks the figures it prints last, and that
// it drops the schema it made.
func TestBenchVotes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server")
	}
	bin := chamberBinary(t)
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(*testing.T) []string { return nil }},
		{"postgres", func(t *testing.T) []string { return []string{"--database-url", dbtest.PostgresURL(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bench", "votes", "--voters", "5", "--polls", "2"}, tc.args(t)...)
			cmd := exec.Command(bin, args...)
			cmd.Env = voteChildEnv()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("chamber %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			var res voteBenchResult
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
				t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
			}
			if res.Voters != 5 || res.Polls != 2 || res.Ballots != 10 || res.Acked != 10 || res.Lost != 0 ||
				res.Refused != 0 || res.Failed != 0 || !res.RecordVerifies || res.Database != tc.name {
				t.Errorf("figures %+v", res)
			}
			if res.P50ms <= 0 || res.P99ms < res.P50ms || res.BallotsPerS <= 0 || res.LimitBallotsPerS <= 0 ||
				res.TransportBallotsPerS <= 0 || res.ServerCPUusPerBallot < 0 || (runtime.GOOS == "linux" && (res.CrowdCPUusPerBallot <= 0 || res.CrowdBurstCPUusPerBallot <= 0 ||
				res.CrowdBurstCPUusPerBallot > res.CrowdCPUusPerBallot)) || res.PollP99MedianMs <= 0 || res.PollP99MedianMs > res.MaxMs ||
				res.WarmupPolls != 5 || res.WarmupP99ms <= 0 || strings.Count(stderr.String(), "warm-up poll") != 5 {
				t.Errorf("timings %+v", res)
			}
			if tc.name != "postgres" {
				return
			}
			m := regexp.MustCompile(`working in schema (chamber_bench_[0-9a-f]+)`).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no schema named in\n%s", stderr.String())
			}
			db, err := sqlx.Open("postgres", args[len(args)-1])
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.Get(&n, `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1`, m[1]); err != nil || n != 0 {
				t.Errorf("schema %s: %d left (%v), want it dropped", m[1], n, err)
			}
		})
	}
}
