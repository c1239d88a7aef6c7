package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errs strings.Builder
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errs)
	return out.String() + errs.String(), err
}

func TestMigrateStatusAndUp(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, "", "migrate", "status", "--data-dir", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st []struct {
		Version int64 `json:"version"`
		Applied bool  `json:"applied"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) == 0 {
		t.Fatalf("migrate status --json: %q (%v)", out, err)
	}
	for _, s := range st {
		if s.Applied {
			t.Errorf("migration %d applied on a new database", s.Version)
		}
	}
	if out, err := runCmd(t, "", "migrate", "up", "--data-dir", dir); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate up: %v %q", err, out)
	}
	out, err = runCmd(t, "", "migrate", "status", "--data-dir", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != len(st)+2 || !strings.HasSuffix(lines[len(lines)-1], "0 pending") {
		t.Fatalf("migrate status after up: %v\n%s", err, out)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.Contains(l, " applied ") {
			t.Errorf("after up, a migration is not applied: %q", l)
		}
	}
}

func TestAdminCreateRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no email", "a long enough password\n", []string{"--name", "A"}, "--email"},
		{"no password on stdin", "", []string{"--email", "a@example.org", "--name", "A", "--password-stdin"}, "no password"},
		{"stdin is not a terminal", "", []string{"--email", "a@example.org", "--name", "A"}, "--password-stdin"},
		{"short password", "short\n", []string{"--email", "a@example.org", "--name", "A", "--password-stdin"}, "at least"},
		{"bad email", "a long enough password\n", []string{"--email", "not-an-email", "--name", "A", "--password-stdin"}, "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCmd(t, tc.stdin, append([]string{"admin", "create", "--data-dir", dir}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error()+out, tc.want) {
				t.Errorf("got %v %q, want an error mentioning %q", err, out, tc.want)
			}
		})
	}
	if out, err := runCmd(t, "a long enough password\n", "admin", "create", "--data-dir", dir, "--email", "a@example.org", "--name", "A", "--password-stdin"); err != nil {
		t.Fatalf("admin create: %v %s", err, out)
	}
	if _, err := runCmd(t, "a long enough password\n", "admin", "create", "--data-dir", dir, "--email", "A@example.org", "--name", "A", "--password-stdin"); err == nil {
		t.Errorf("a second admin with the same email: want a refusal")
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("got %v, want a usage error", err)
	}
}
