package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBenchRoom runs the benchmark briefly, as its users would, and checks that its
// answer makes sense.
func TestBenchRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server with WebRTC peers")
	}
	bin := chamberBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "room", "--publishers", "1", "--observers", "3",
		"--full-observers", "1", "--duration", "3s")
	cmd.Env = os.Environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chamber bench room: %v\nstderr:\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var got map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q is not a JSON object of numbers: %v", lines[len(lines)-1], err)
	}
	for _, c := range []struct {
		field    string
		min, max float64
	}{
		{"observers", 3, 3},
		{"publishers", 1, 1},
		{"observers_joined", 3, 3},
		{"delivery_ratio", 0.9, 1},
		{"join_p50_ms", 0.1, 60_000},
		{"join_p99_ms", got["join_p50_ms"], 60_000},
		{"forwarded_packets", 1, 1e9},
		{"server_us_per_packet", 0.01, 1e6},
		{"limit_us_per_packet", 0.01, 1e6},
		{"efficiency", 1e-4, 100},
	} {
		v, ok := got[c.field]
		if !ok {
			t.Errorf("no %s in %s", c.field, lines[len(lines)-1])
			continue
		}
		if v < c.min || v > c.max {
			t.Errorf("%s = %v, want between %v and %v", c.field, v, c.min, c.max)
		}
	}
	if want := got["limit_us_per_packet"] / got["server_us_per_packet"]; math.Abs(got["efficiency"]-want) > 0.01*want+1e-4 {
		t.Errorf("efficiency = %v, want limit/server = %v", got["efficiency"], want)
	}
}

func TestRoomTallyCountsByTimestampBin(t *testing.T) {
	var tl roomTally
	for ts := uint32(9000); ts < 9000+10*roomTSBin; ts += 960 {
		tl.add(7, ts)
	}
	tl.add(8, 0)
	for _, c := range []struct {
		name     string
		ssrc     uint32
		from, to uint32
		want     int
	}{
		{"all", 7, 0, 1 << 20, 50},
		{"one bin", 7, 9000/roomTSBin + 1, 9000/roomTSBin + 2, 5},
		{"before the first packet", 7, 0, 9000 / roomTSBin, 0},
		{"another stream", 8, 0, 1, 1},
		{"unknown stream", 9, 0, 1 << 20, 0},
	} {
		if got := tl.count(c.ssrc, c.from, c.to); got != c.want {
			t.Errorf("%s: got %d packets, want %d", c.name, got, c.want)
		}
	}
	if _, ok := tl.firstAt(7); !ok {
		t.Error("no first packet time for a stream seen")
	}
}

func TestRoomIsRTP(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"rtp", append([]byte{0x80, 96}, make([]byte, 10)...), true},
		{"rtp with marker", append([]byte{0x80, 0x80 | 96}, make([]byte, 10)...), true},
		{"rtcp sender report", append([]byte{0x80, 200}, make([]byte, 10)...), false},
		{"stun", append([]byte{0x00, 0x01}, make([]byte, 18)...), false},
		{"dtls", append([]byte{22, 0xfe}, make([]byte, 11)...), false},
		{"short", []byte{0x80, 96}, false},
	} {
		if got := roomIsRTP(c.b); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
