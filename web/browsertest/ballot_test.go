package browsertest

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chamber/chamber/voting"
)

// TestBallotVectors builds and signs the ballots of voting/testdata/ballot in the
// browser, with the page's own module, and compares the bytes and signatures with
// the vectors'.
func TestBallotVectors(t *testing.T) {
	b := newBrowser(t, "ballots")
	s := startServer(t)
	b.open(s.url + "/")
	files, err := filepath.Glob("../../voting/testdata/ballot/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test vectors: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f := map[string]string{}
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
				f[k] = v
			}
		}
		bytes, err := hex.DecodeString(f["ballot"])
		if err != nil {
			t.Fatal(err)
		}
		bl, err := voting.ParseBallot(bytes)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		expr := fmt.Sprintf(`(async () => {
			const m = await import("/static/js/ballot.js");
			const hex = (s) => Uint8Array.from(s.match(/../g), (h) => parseInt(h, 16));
			const bytes = m.encodeBallot({ meeting: BigInt("%d"), item: BigInt("%d"), poll: BigInt("%d"), voter: BigInt("%d"),
				recorder: BigInt("%d"), proxy: BigInt("%d"), castAt: BigInt("%d"), challenge: hex("%x"), nonce: hex("%x"),
				casting: %t, choice: %q });
			const key = await crypto.subtle.importKey("pkcs8", hex("302e020100300506032b657004220420%s"), { name: "Ed25519" }, false, ["sign"]);
			const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, bytes));
			return m.toHex(bytes) + " " + m.toHex(sig);
		})()`, bl.Meeting, bl.Item, bl.Poll, bl.Voter, bl.Recorder, bl.Proxy, bl.CastAt.UnixMilli(),
			bl.Challenge[:], bl.Nonce[:], bl.Casting, bl.Choice, f["seed"])
		got := eval[string](b, expr)
		if want := f["ballot"] + " " + f["signature"]; got != want {
			t.Errorf("%s: the browser made\n%s\nwant\n%s", filepath.Base(file), got, want)
		}
	}
}
