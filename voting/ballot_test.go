package voting

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vectors are the ballots whose encodings the golden files fix. Each is signed with
// testKey(signer).
var vectors = []struct {
	name   string
	signer string
	ballot Ballot
}{
	{"for", "voter-42", Ballot{
		Meeting: 7, Item: 31, Poll: 3, Voter: 42,
		CastAt: t0.Add(1234 * time.Millisecond), Challenge: fill("challenge 3"), Nonce: fill("nonce a"), Choice: "for",
	}},
	{"abstain-large-ids", "voter-large", Ballot{
		Meeting: 1<<63 - 1, Item: 1 << 40, Poll: 65536, Voter: 1<<32 + 5,
		CastAt: time.UnixMilli(1), Challenge: fill("challenge big"), Nonce: fill("nonce b"), Choice: "abstain",
	}},
	{"clerk-recorded-proxy", "clerk-9", Ballot{
		Meeting: 7, Item: 31, Poll: 3, Voter: 43, Recorder: 9, Proxy: 44,
		CastAt: t0.Add(5 * time.Second), Challenge: fill("challenge 3"), Nonce: fill("nonce c"), Choice: "against",
	}},
	{"casting", "chair-40", Ballot{
		Meeting: 7, Item: 31, Poll: 3, Voter: 40, Casting: true,
		CastAt: t0.Add(time.Minute), Challenge: fill("challenge 3"), Nonce: fill("nonce d"), Choice: "for",
	}},
	{"long-choice", "voter-42", Ballot{
		Meeting: 7, Item: 32, Poll: 4, Voter: 42,
		CastAt: t0, Challenge: fill("challenge 4"), Nonce: fill("nonce e"), Choice: strings.Repeat("z", MaxChoiceLen),
	}},
}

// vectorText renders a test vector as the golden files hold it.
func vectorText(name, signer string, sb SignedBallot) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s test vector %q: Ed25519 seed = SHA-256(\"chamber test key: %s\")\n", BallotTag, name, signer)
	fmt.Fprintf(&b, "seed: %x\n", testKey(signer).Seed())
	fmt.Fprintf(&b, "public_key: %s\n", base64.StdEncoding.EncodeToString(sb.PublicKey))
	fmt.Fprintf(&b, "ballot: %x\n", sb.Bytes)
	fmt.Fprintf(&b, "signature: %x\n", sb.Signature)
	return b.Bytes()
}

func TestBallotGolden(t *testing.T) {
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			sb, err := SignBallot(tc.ballot, testKey(tc.signer))
			if err != nil {
				t.Fatalf("SignBallot: %v", err)
			}
			golden(t, filepath.Join("ballot", tc.name+".txt"), vectorText(tc.name, tc.signer, sb))
		})
	}
}

// readVector reads a golden vector back.
func readVector(t *testing.T, path string) (seed []byte, sb SignedBallot) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && !strings.HasPrefix(k, "#") {
			fields[k] = v
		}
	}
	dec := func(k string) []byte {
		b, err := hex.DecodeString(fields[k])
		if err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		return b
	}
	pub, err := base64.StdEncoding.DecodeString(fields["public_key"])
	if err != nil {
		t.Fatal(err)
	}
	return dec("seed"), SignedBallot{Bytes: dec("ballot"), Signature: dec("signature"), PublicKey: pub}
}

// TestBallotVectorsParse reads the golden vectors as another implementation would:
// each parses to the ballot it was made from and its signature verifies.
func TestBallotVectorsParse(t *testing.T) {
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			seed, sb := readVector(t, filepath.Join("testdata", "ballot", tc.name+".txt"))
			if got, want := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), sb.PublicKey; !got.Equal(want) {
				t.Errorf("public key from seed: got %x, want %x", got, want)
			}
			got, err := sb.Open()
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := tc.ballot
			want.CastAt = want.CastAt.UTC()
			if got != want {
				t.Errorf("parsed ballot:\ngot  %+v\nwant %+v", got, want)
			}
			if got, want := len(sb.Bytes), ballotFixedLen+len(tc.ballot.Choice); got != want {
				t.Errorf("length: got %d, want %d", got, want)
			}
		})
	}
}

// TestBallotLayout checks field offsets against BALLOT.md's table.
func TestBallotLayout(t *testing.T) {
	b := vectors[2].ballot
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		offset int
		want   string // hex
	}{
		{"tag", 0, hex.EncodeToString([]byte(BallotTag))},
		{"meeting", 16, "0000000000000007"},
		{"item", 24, "000000000000001f"},
		{"poll", 32, "0000000000000003"},
		{"voter", 40, "000000000000002b"},
		{"recorder", 48, "0000000000000009"},
		{"proxy", 56, "000000000000002c"},
		{"time", 64, fmt.Sprintf("%016x", b.CastAt.UnixMilli())},
		{"challenge", 72, hex.EncodeToString(b.Challenge[:])},
		{"nonce", 104, hex.EncodeToString(b.Nonce[:])},
		{"flags", 136, "00"},
		{"choice length", 137, "07"},
		{"choice", 138, hex.EncodeToString([]byte("against"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.want) / 2
			if got := hex.EncodeToString(data[tc.offset : tc.offset+n]); got != tc.want {
				t.Errorf("bytes %d..%d: got %s, want %s", tc.offset, tc.offset+n, got, tc.want)
			}
		})
	}
}

// mutate returns a copy of a valid encoding changed by f.
func mutate(t *testing.T, f func([]byte) []byte) []byte {
	t.Helper()
	data, err := vectors[0].ballot.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return f(bytes.Clone(data))
}

func TestParseBallotRefuses(t *testing.T) {
	tests := []struct {
		name string
		data func([]byte) []byte
		want string // in the error message
	}{
		{"empty", func([]byte) []byte { return nil }, "tag"},
		{"wrong tag", func(b []byte) []byte { b[15] = '2'; return b }, "tag"},
		{"truncated in the ids", func(b []byte) []byte { return b[:30] }, "item"},
		{"truncated choice", func(b []byte) []byte { return b[:len(b)-1] }, "choice"},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, "trailing"},
		{"zero meeting", func(b []byte) []byte { clear(b[16:24]); return b }, "meeting: id 0"},
		{"zero item", func(b []byte) []byte { clear(b[24:32]); return b }, "item: id 0"},
		{"zero poll", func(b []byte) []byte { clear(b[32:40]); return b }, "poll: id 0"},
		{"zero voter", func(b []byte) []byte { clear(b[40:48]); return b }, "voter: id 0"},
		{"top bit of voter", func(b []byte) []byte { b[40] = 0x80; return b }, "signed 64-bit"},
		{"top bit of recorder", func(b []byte) []byte { b[48] = 0x80; return b }, "recorder"},
		{"zero time", func(b []byte) []byte { clear(b[64:72]); return b }, "time: 0"},
		{"negative time", func(b []byte) []byte { b[64] = 0xff; return b }, "time"},
		{"unknown flag", func(b []byte) []byte { b[136] = 0x02; return b }, "flags"},
		{"empty choice", func(b []byte) []byte { b[137] = 0; return b[:138] }, "choice"},
		{"uppercase choice", func(b []byte) []byte { b[138] = 'F'; return b }, "choice"},
		{"choice with a space", func(b []byte) []byte { b[139] = ' '; return b }, "choice"},
		{"choice too long", func(b []byte) []byte {
			b = b[:137]
			b = append(b, MaxChoiceLen+1)
			return append(b, strings.Repeat("a", MaxChoiceLen+1)...)
		}, "bytes"},
		{"choice length past the end", func(b []byte) []byte { b[137] = 4; return b }, "choice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBallot(mutate(t, tc.data))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseBallot: got %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseBallot: got %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestMarshalBallotRefuses(t *testing.T) {
	good := vectors[0].ballot
	tests := []struct {
		name string
		edit func(*Ballot)
	}{
		{"zero meeting", func(b *Ballot) { b.Meeting = 0 }},
		{"negative item", func(b *Ballot) { b.Item = -1 }},
		{"zero poll", func(b *Ballot) { b.Poll = 0 }},
		{"zero voter", func(b *Ballot) { b.Voter = 0 }},
		{"negative recorder", func(b *Ballot) { b.Recorder = -3 }},
		{"negative proxy", func(b *Ballot) { b.Proxy = -3 }},
		{"zero time", func(b *Ballot) { b.CastAt = time.Time{} }},
		{"epoch", func(b *Ballot) { b.CastAt = time.Unix(0, 0) }},
		{"no choice", func(b *Ballot) { b.Choice = "" }},
		{"bad choice", func(b *Ballot) { b.Choice = "For" }},
		{"long choice", func(b *Ballot) { b.Choice = strings.Repeat("a", MaxChoiceLen+1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := good
			tc.edit(&b)
			if _, err := b.MarshalBinary(); !errors.Is(err, ErrMalformed) {
				t.Errorf("MarshalBinary: got %v, want ErrMalformed", err)
			}
			if _, err := SignBallot(b, testKey("x")); !errors.Is(err, ErrMalformed) {
				t.Errorf("SignBallot: got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSignedBallotOpen(t *testing.T) {
	good, err := SignBallot(vectors[0].ballot, testKey("voter-42"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*SignedBallot)
		want error
	}{
		{"genuine", func(*SignedBallot) {}, nil},
		{"changed choice", func(s *SignedBallot) {
			b := vectors[0].ballot
			b.Choice = "against"
			s.Bytes, _ = b.MarshalBinary()
		}, ErrBadSignature},
		{"changed voter", func(s *SignedBallot) { s.Bytes[47]++ }, ErrBadSignature},
		{"flipped signature bit", func(s *SignedBallot) { s.Signature[10] ^= 1 }, ErrBadSignature},
		{"another key", func(s *SignedBallot) { s.PublicKey = testKey("other").Public().(ed25519.PublicKey) }, ErrBadSignature},
		{"short signature", func(s *SignedBallot) { s.Signature = s.Signature[:63] }, ErrMalformed},
		{"short key", func(s *SignedBallot) { s.PublicKey = s.PublicKey[:31] }, ErrMalformed},
		{"malformed bytes", func(s *SignedBallot) { s.Bytes = s.Bytes[:20] }, ErrMalformed},
		{"non-canonical signature scalar", func(s *SignedBallot) {
			// Adding the group order to S gives a signature that lax verifiers accept.
			addOrder(s.Signature[32:])
		}, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := SignedBallot{Bytes: bytes.Clone(good.Bytes), Signature: bytes.Clone(good.Signature), PublicKey: bytes.Clone(good.PublicKey)}
			tc.edit(&s)
			_, err := s.Open()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Open: got %v, want %v", err, tc.want)
			}
		})
	}
}

// addOrder adds the Ed25519 group order L to the little-endian scalar s in place.
func addOrder(s []byte) {
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	carry := 0
	for i := range 32 {
		v := int(s[i]) + int(l[i]) + carry
		s[i], carry = byte(v), v>>8
	}
}

func TestBallotHashIdentifiesBytes(t *testing.T) {
	a, _ := SignBallot(vectors[0].ballot, testKey("voter-42"))
	b, _ := SignBallot(vectors[0].ballot, testKey("voter-42"))
	c, _ := SignBallot(vectors[1].ballot, testKey("voter-42"))
	if a.Hash() != b.Hash() {
		t.Errorf("same ballot: got different hashes")
	}
	if a.Hash() == c.Hash() {
		t.Errorf("different ballots: got the same hash")
	}
}

func FuzzParseBallot(f *testing.F) {
	for _, v := range vectors {
		data, err := v.ballot.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)-1])
		f.Add(append(bytes.Clone(data), 'x'))
	}
	f.Add([]byte{})
	f.Add([]byte(BallotTag))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBallot(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseBallot: error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := b.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a parsed ballot: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs:\ngot  %x\nwant %x", again, data)
		}
	})
}

// TestBallotJavaScript runs the reference JavaScript (testdata/ballot.mjs, WebCrypto
// Ed25519) over the golden vectors: it must decode, re-encode and sign each to the
// same bytes. It needs node and is skipped without it.
func TestBallotJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	files, err := filepath.Glob(filepath.Join("testdata", "ballot", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	out, err := exec.Command(node, append([]string{filepath.Join("testdata", "ballot.mjs")}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), ": ok\n"); got != len(files) {
		t.Errorf("node checked %d vectors, want %d:\n%s", got, len(files), out)
	}
}

// TestBallotLogValue checks that a voter's choice never reaches a log line.
func TestBallotLogValue(t *testing.T) {
	b := vectors[3].ballot // a casting vote "for"
	sb, err := SignBallot(b, testKey("chair-40"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	logger.Info("accepted", "ballot", b, "signed", sb)
	line := buf.String()
	for _, secret := range []string{"choice", "=for", hex.EncodeToString(b.Nonce[:4]), base64.StdEncoding.EncodeToString(sb.Signature[:6])} {
		if strings.Contains(line, secret) {
			t.Errorf("log line %q contains %q", line, secret)
		}
	}
	for _, want := range []string{"ballot.voter=40", "ballot.poll=3", "signed.key=" + string(KeyIDOf(sb.PublicKey))} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}
