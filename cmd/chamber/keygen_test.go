package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/chamber/chamber/voting"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ballots.key")
	stdout, stderr, err := runCLI(t, "", "keygen", "--out", path)
	if err != nil {
		t.Fatalf("keygen: %v\n%s", err, stderr)
	}
	pub, err := voting.ParsePublicKey(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatalf("keygen printed %q, not a public key: %v", stdout, err)
	}
	if !strings.Contains(stderr, string(voting.KeyIDOf(pub))) {
		t.Errorf("keygen does not name the key id:\n%s", stderr)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("private key file mode %v, want 0600", fi.Mode().Perm())
	}
	priv, err := voting.LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Errorf("the private key's public half is not the key printed")
	}
	data, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if filePub, err := voting.ParsePublicKeyPEM(data); err != nil || !bytes.Equal(filePub, pub) {
		t.Errorf(".pub file: got %x, %v, want %x", filePub, err, pub)
	}

	if _, _, err := runCLI(t, "", "keygen", "--out", path); !errors.Is(err, os.ErrExist) {
		t.Errorf("keygen over an existing key: got %v, want it refused", err)
	}
	var ue usageError
	if _, _, err := runCLI(t, "", "keygen"); !errors.As(err, &ue) {
		t.Errorf("keygen without --out: got %v, want a usage error", err)
	}
	if _, _, err := runCLI(t, "", "keygen", "--out", filepath.Join(dir, "k2"), "extra"); !errors.As(err, &ue) {
		t.Errorf("keygen with an argument: got %v, want a usage error", err)
	}
}
