package voting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// mth is RFC 6962's Merkle Tree Hash written straight from section 2.1, to check the
// log against.
func mth(leaves [][]byte) tlog.Hash {
	switch n := len(leaves); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		l, r := mth(leaves[:k]), mth(leaves[k:])
		return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
	}
}

func testLeaves(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, "leaf %d", i))
	}
	return out
}

// TestLogRFC6962Vectors checks roots against the reference inputs that RFC 6962
// implementations share (the certificate-transparency test leaves).
func TestLogRFC6962Vectors(t *testing.T) {
	leaves := [][]byte{
		{}, {0x00}, {0x10}, {0x20, 0x21}, {0x30, 0x31}, {0x40, 0x41, 0x42, 0x43},
		{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
		{0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f},
	}
	roots := []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	ctx := context.Background()
	log := NewLog("test/log", NewMemLogStore())
	for n, want := range roots {
		t.Run(fmt.Sprintf("size %d", n), func(t *testing.T) {
			if n > 0 {
				if _, err := log.Append(ctx, leaves[n-1]); err != nil {
					t.Fatal(err)
				}
			}
			head, err := log.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(head.Hash[:]); got != want {
				t.Errorf("root: got %s, want %s", got, want)
			}
			if got := mth(leaves[:n]); got != head.Hash {
				t.Errorf("root: log gives %s, RFC 6962's definition %s", head.Hash, got)
			}
		})
	}
}

// TestLogProofs builds logs one leaf at a time and in batches and checks every root,
// every inclusion proof and every consistency proof between two sizes.
func TestLogProofs(t *testing.T) {
	ctx := context.Background()
	const max = 17
	leaves := testLeaves(max)
	single := NewLog("test/single", NewMemLogStore())
	batched := NewLog("test/batched", NewMemLogStore())
	heads := []Checkpoint{{Origin: "test/single", Size: 0, Hash: mth(nil)}}
	for n := 1; n <= max; n++ {
		idx, err := single.Append(ctx, leaves[n-1])
		if err != nil || idx != int64(n-1) {
			t.Fatalf("Append leaf %d: got index %d, %v", n-1, idx, err)
		}
		head, err := single.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := mth(leaves[:n]); head.Hash != want {
			t.Fatalf("size %d: root %s, want %s", n, head.Hash, want)
		}
		heads = append(heads, head)
	}
	for _, batch := range [][2]int{{0, 3}, {3, 4}, {4, 11}, {11, 17}} {
		idx, err := batched.Append(ctx, leaves[batch[0]:batch[1]]...)
		if err != nil || idx != int64(batch[0]) {
			t.Fatalf("Append batch %v: got index %d, %v", batch, idx, err)
		}
	}
	if got, _ := batched.Head(ctx); got.Hash != heads[max].Hash {
		t.Errorf("batched appends: root %s, one by one %s", got.Hash, heads[max].Hash)
	}

	for n := 1; n <= max; n++ {
		for i := range n {
			proof, err := single.InclusionProof(ctx, int64(i), int64(n))
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", i, n, err)
			}
			if err := VerifyInclusion(heads[n], int64(i), leaves[i], proof); err != nil {
				t.Errorf("leaf %d in tree %d: %v", i, n, err)
			}
			if err := VerifyInclusion(heads[n], int64(i), []byte("forged"), proof); !errors.Is(err, ErrBadProof) {
				t.Errorf("forged leaf %d in tree %d: got %v, want ErrBadProof", i, n, err)
			}
			if n > 1 {
				if err := VerifyInclusion(heads[n], int64((i+1)%n), leaves[i], proof); !errors.Is(err, ErrBadProof) {
					t.Errorf("leaf %d at the wrong index in tree %d: got %v, want ErrBadProof", i, n, err)
				}
			}
		}
	}
	for m := 0; m <= max; m++ {
		for n := m; n <= max; n++ {
			proof, err := single.ConsistencyProof(ctx, int64(m), int64(n))
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", m, n, err)
			}
			if err := VerifyConsistency(heads[m], heads[n], proof); err != nil {
				t.Errorf("consistency %d → %d: %v", m, n, err)
			}
			if m > 0 && m < n {
				forged := heads[m]
				forged.Hash[0] ^= 1
				if err := VerifyConsistency(forged, heads[n], proof); !errors.Is(err, ErrBadProof) {
					t.Errorf("consistency %d → %d from a forged head: got %v, want ErrBadProof", m, n, err)
				}
			}
		}
	}
}

func TestLogRefuses(t *testing.T) {
	ctx := context.Background()
	store := NewMemLogStore()
	log := NewLog("test/log", store)
	if _, err := log.Append(ctx, testLeaves(3)...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"tree head past the end", func() error { _, err := log.TreeHead(ctx, 4); return err }, ErrNotFound},
		{"inclusion past the tree", func() error { _, err := log.InclusionProof(ctx, 3, 3); return err }, ErrNotFound},
		{"inclusion of a negative index", func() error { _, err := log.InclusionProof(ctx, -1, 3); return err }, ErrNotFound},
		{"consistency backwards", func() error { _, err := log.ConsistencyProof(ctx, 3, 2); return err }, ErrNotFound},
		{"consistency past the end", func() error { _, err := log.ConsistencyProof(ctx, 1, 4); return err }, ErrNotFound},
		{"leaves past the end", func() error { _, err := log.Leaves(ctx, 0, 4); return err }, ErrNotFound},
		{"append at a stale size", func() error {
			return store.Append(ctx, 2, [][]byte{[]byte("late")}, tlog.StoredHashIndex(0, 2), []tlog.Hash{{}})
		}, ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if n, _ := log.Size(ctx); n != 3 {
		t.Errorf("size after refused append: got %d, want 3", n)
	}
}

func TestCheckpointText(t *testing.T) {
	leaves := testLeaves(5)
	c := Checkpoint{Origin: MeetingOrigin("chamber.example.gov.uk", 7), Size: 5, Hash: mth(leaves)}
	golden(t, "checkpoint.txt", c.Text())
	got, err := ParseCheckpoint(c.Text())
	if err != nil || got != c {
		t.Errorf("ParseCheckpoint(Text()): got %+v, %v, want %+v", got, err, c)
	}
}

func TestParseCheckpointRefuses(t *testing.T) {
	hash := "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"two lines", "example.com/log\n5\n"},
		{"no final newline", "example.com/log\n5\n" + hash},
		{"extension line", "example.com/log\n5\n" + hash + "\nextra\n"},
		{"empty origin", "\n5\n" + hash + "\n"},
		{"origin with a space", "example.com log\n5\n" + hash + "\n"},
		{"origin with a plus", "example.com+log\n5\n" + hash + "\n"},
		{"leading zero", "example.com/log\n05\n" + hash + "\n"},
		{"signed size", "example.com/log\n+5\n" + hash + "\n"},
		{"negative size", "example.com/log\n-1\n" + hash + "\n"},
		{"short hash", "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2==\n"},
		{"unpadded hash", "example.com/log\n5\n" + strings.TrimSuffix(hash, "=") + "\n"},
		{"hex hash", "example.com/log\n5\n" + strings.Repeat("ab", 32) + "\n"},
		{"CRLF", "example.com/log\r\n5\r\n" + hash + "\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := ParseCheckpoint([]byte(tc.text)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseCheckpoint: got %+v, %v, want ErrMalformed", c, err)
			}
		})
	}
}

func TestSignedCheckpoint(t *testing.T) {
	key, err := NewLogKey(testKey("server"))
	if err != nil {
		t.Fatal(err)
	}
	origin := MeetingOrigin("chamber.example.gov.uk", 7)
	c := Checkpoint{Origin: origin, Size: 5, Hash: mth(testLeaves(5))}
	signed, err := key.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "checkpoint.signed.txt", signed)
	vkey, err := key.VerifierKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(vkey, origin+"+") {
		t.Errorf("verifier key %q is not named by the origin", vkey)
	}
	otherMeeting, _ := key.VerifierKey(MeetingOrigin("chamber.example.gov.uk", 8))
	otherServer, _ := NewLogKey(testKey("another server"))
	otherServerKey, _ := otherServer.VerifierKey(origin)
	forgedByOther, _ := otherServer.Sign(c)
	tests := []struct {
		name   string
		signed []byte
		vkey   string
		want   error
	}{
		{"genuine", signed, vkey, nil},
		{"changed size", bytes.Replace(signed, []byte("\n5\n"), []byte("\n6\n"), 1), vkey, ErrBadProof},
		{"changed root", bytes.Replace(signed, []byte(c.Hash.String()[:4]), []byte("AAAA"), 1), vkey, ErrBadProof},
		{"another meeting's key", signed, otherMeeting, ErrBadProof},
		{"another server's key", signed, otherServerKey, ErrBadProof},
		{"signed by another server", forgedByOther, vkey, ErrBadProof},
		{"no signature", c.Text(), vkey, ErrBadProof},
		{"bad verifier key", signed, "not a key", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OpenCheckpoint(tc.signed, tc.vkey)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("OpenCheckpoint: got %v, want %v", err, tc.want)
			}
			if err == nil && got != c {
				t.Errorf("OpenCheckpoint: got %+v, want %+v", got, c)
			}
		})
	}
}

func TestReceipt(t *testing.T) {
	ctx := context.Background()
	key, _ := NewLogKey(testKey("server"))
	origin := MeetingOrigin("chamber.example.gov.uk", 7)
	vkey, _ := key.VerifierKey(origin)
	log := NewLog(origin, NewMemLogStore())
	leaves := testLeaves(6)
	if _, err := log.Append(ctx, leaves...); err != nil {
		t.Fatal(err)
	}
	head, _ := log.Head(ctx)
	signed, _ := key.Sign(head)
	proof, _ := log.InclusionProof(ctx, 4, head.Size)
	r := Receipt{Index: 4, Proof: proof, Checkpoint: string(signed)}
	tests := []struct {
		name string
		r    Receipt
		leaf []byte
		want error
	}{
		{"genuine", r, leaves[4], nil},
		{"another leaf", r, leaves[3], ErrBadProof},
		{"another index", Receipt{Index: 3, Proof: proof, Checkpoint: r.Checkpoint}, leaves[4], ErrBadProof},
		{"index past the checkpoint", Receipt{Index: 6, Proof: proof, Checkpoint: r.Checkpoint}, leaves[4], ErrBadProof},
		{"short proof", Receipt{Index: 4, Proof: proof[1:], Checkpoint: r.Checkpoint}, leaves[4], ErrBadProof},
		{"unsigned checkpoint", Receipt{Index: 4, Proof: proof, Checkpoint: string(head.Text())}, leaves[4], ErrBadProof},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyReceipt(tc.r, tc.leaf, vkey)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("VerifyReceipt: got %v, want %v", err, tc.want)
			}
		})
	}
}
