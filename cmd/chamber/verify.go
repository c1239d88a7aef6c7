package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/chamber/chamber/voting"
)

// runVerify checks a meeting's published vote record offline: every signature and
// inclusion proof, that the log is whole, each voter's eligibility, the counts against
// the ballots and each result against the rules. It prints what it checked, then
// every problem, and fails if there is any.
func runVerify(_ context.Context, e env, args []string) error {
	fs := newFlagSet("verify", e)
	var keys []string
	fs.Func("key", "the council's published key to trust: a note verifier key (ORIGIN+HASH+KEY), the server's\n"+
		"public key in base64, or a .pub file; may be repeated (without one, the record's own key is used unchecked)",
		func(s string) error { keys = append(keys, s); return nil })
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: chamber verify [--key KEY] RECORD.json (- reads standard input)")
	}
	specs := make([]trustedKey, 0, len(keys))
	for _, k := range keys {
		spec, err := parseTrustedKey(k)
		if err != nil {
			return usagef("--key %q: %v", k, err)
		}
		specs = append(specs, spec)
	}
	data, err := readRecordFile(e, fs.Arg(0))
	if err != nil {
		return err
	}
	rec, err := voting.ParseRecord(data)
	if err != nil {
		return fmt.Errorf("verify %s: %w", fs.Arg(0), err)
	}
	var trusted []string
	for _, spec := range specs {
		vkey, err := spec.verifierKey(rec.Log.Origin)
		if err != nil {
			return fmt.Errorf("verify %s: %w", fs.Arg(0), err)
		}
		trusted = append(trusted, vkey)
	}
	problems := voting.VerifyRecord(rec, trusted...)
	summarise(e.stdout, rec)
	if len(trusted) == 0 {
		fmt.Fprintln(e.stderr, "warning: no --key given: the checkpoint was checked against the record's own key, not a published one")
	}
	if len(problems) == 0 {
		fmt.Fprintf(e.stdout, "OK: the record of meeting %d holds.\n", rec.Meeting.ID)
		return nil
	}
	for _, p := range problems {
		fmt.Fprintln(e.stdout, "problem:", p)
	}
	return fmt.Errorf("the record of meeting %d does not hold: %d problem%s", rec.Meeting.ID, len(problems), plural(len(problems)))
}

// memberName names a user as the record does, or by id.
func memberName(rec *voting.Record, user int64) string {
	for _, m := range rec.Members {
		if m.User == user && m.Name != "" {
			return m.Name
		}
	}
	return fmt.Sprintf("user %d", user)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// readRecordFile reads a record from a file, or from standard input for "-".
func readRecordFile(e env, path string) ([]byte, error) {
	const limit = 256 << 20
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// A trustedKey is what --key names: a note verifier key, or the server's public key
// from which each meeting's verifier key derives.
type trustedKey struct {
	vkey string
	pub  ed25519.PublicKey
}

// parseTrustedKey reads a note verifier key, a .pub file (PEM) or a base64 public key.
func parseTrustedKey(s string) (trustedKey, error) {
	if _, err := note.NewVerifier(s); err == nil {
		return trustedKey{vkey: s}, nil
	}
	if data, err := os.ReadFile(s); err == nil {
		pub, err := voting.ParsePublicKeyPEM(data)
		return trustedKey{pub: pub}, err
	}
	pub, err := voting.ParsePublicKey(s)
	if err != nil {
		return trustedKey{}, fmt.Errorf("neither a verifier key, a readable .pub file nor a base64 public key")
	}
	return trustedKey{pub: pub}, nil
}

// verifierKey returns the note verifier key of the log named origin.
func (k trustedKey) verifierKey(origin string) (string, error) {
	if k.vkey != "" {
		return k.vkey, nil
	}
	return note.NewEd25519VerifierKey(origin, k.pub)
}

// summarise prints what the record holds, poll by poll.
func summarise(w io.Writer, rec *voting.Record) {
	items := map[int64]voting.RecordItem{}
	for _, it := range rec.Items {
		items[it.ID] = it
	}
	fmt.Fprintf(w, "Meeting %d: %s\n", rec.Meeting.ID, rec.Meeting.Title)
	fmt.Fprintf(w, "Log %s, %d signing keys\n", rec.Log.Origin, len(rec.Keys))
	for _, rp := range rec.Polls {
		op := rp.Opening
		it := items[op.Item]
		fmt.Fprintf(w, "  poll %d on item %s %q: %d ballot%s", op.ID, it.Number, it.Title, len(rp.Ballots), plural(len(rp.Ballots)))
		if n := len(rp.Counts); n > 0 {
			fmt.Fprintf(w, ", %d count%s of hands in the room", n, plural(n))
		}
		switch res := rp.Result; {
		case rp.Closing == nil:
			fmt.Fprint(w, ", still open")
		case res == nil:
			fmt.Fprintf(w, ", closed %s, no result", rp.Closing.Outcome)
		default:
			var counts []string
			for _, c := range res.Counts {
				counts = append(counts, fmt.Sprintf("%s %d", c.Option, c.Count))
			}
			fmt.Fprintf(w, ", %s (%s)", res.Outcome, strings.Join(counts, ", "))
			if res.Winner != "" {
				fmt.Fprintf(w, ", chose %s", res.Winner)
			}
			if res.CastingVote != "" {
				fmt.Fprintf(w, ", on the casting vote %s", res.CastingVote)
			}
			if res.PreponderantVote != "" {
				fmt.Fprintf(w, ", on the presiding member's vote %s", res.PreponderantVote)
			}
			if len(res.Counted) > 0 {
				var hands []string
				for _, c := range res.Counted {
					hands = append(hands, fmt.Sprintf("%s %d", c.Option, c.Count))
				}
				fmt.Fprintf(w, "; counted in the room: %s", strings.Join(hands, ", "))
			}
			if eq := res.Equality; eq != nil && eq.Resolution != voting.ResolvedByCastingVote && eq.Resolution != voting.ResolvedByPreponderantVote {
				fmt.Fprintf(w, "; equality of %s: %s", strings.Join(eq.Options, " and "), eq.Resolution.Text())
			}
		}
		if d := rp.Declined; d != nil {
			fmt.Fprintf(w, "; no casting vote from %s, recorded by %s: %q", memberName(rec, d.Presiding), memberName(rec, d.DeclaredBy), d.Reason)
		}
		fmt.Fprintln(w)
	}
	if n := len(rec.Withheld); n > 0 {
		fmt.Fprintf(w, "  %d log entr%s of exempt business withheld (checked by hash only)\n", n, map[bool]string{true: "y", false: "ies"}[n == 1])
	}
}
