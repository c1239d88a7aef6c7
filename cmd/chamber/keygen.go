package main

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/chamber/chamber/voting"
)

// runKeygen writes a new Ed25519 key: the private key to --out (mode 0600, PEM PKCS #8)
// and the public key beside it (--out + ".pub"). A member enrols the public key, which
// it prints, and a clerk approves it; the server's log key, which signs checkpoints,
// is made the same way.
func runKeygen(_ context.Context, e env, args []string) error {
	fs := newFlagSet("keygen", e)
	out := fs.String("out", "", "file to write the private key to (required); the public key goes to FILE.pub")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("keygen takes no arguments, got %q", fs.Args())
	}
	if *out == "" {
		return usagef("keygen needs --out FILE")
	}
	pub, err := voting.GenerateKeyFile(*out, rand.Reader)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Wrote the private key to %s (keep it to yourself) and the public key to %s.pub.\n", *out, *out)
	fmt.Fprintf(e.stderr, "Key id %s. Enrol this public key, then ask a clerk to approve it:\n", voting.KeyIDOf(pub))
	fmt.Fprintln(e.stdout, voting.EncodePublicKey(pub))
	return nil
}
