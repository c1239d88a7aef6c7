package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chamberBinary builds the real binary once for the end-to-end tests.
func chamberBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chamber-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "chamber")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// cli runs the binary with args and stdin, and fails the test if it exits non-zero.
func cli(t *testing.T, bin, configDir, stdin string, args ...string) string {
	t.Helper()
	out, err := cliErr(bin, configDir, stdin, args...)
	if err != nil {
		t.Fatalf("chamber %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func cliErr(bin, configDir, stdin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CHAMBER_CONFIG_DIR="+configDir)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestCLIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := chamberBinary(t)
	dataDir, configDir := t.TempDir(), t.TempDir()

	// The first admin is made straight in the database, before the server starts.
	out := cli(t, bin, configDir, "correct horse battery\n",
		"admin", "create", "--data-dir", dataDir, "--email", "Admin@Example.org", "--name", "Ada Admin", "--password-stdin")
	if !strings.Contains(out, "created admin Ada Admin <admin@example.org>") {
		t.Errorf("admin create: got %q", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--rtc-udp-port", "0", "--data-dir", dataDir, "--demo")
	srv.Cancel = func() error { return srv.Process.Signal(syscall.SIGTERM) }
	stdout, _ := srv.StdoutPipe()
	var logs bytes.Buffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	url := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "chamber listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		srv.Wait()
		t.Fatalf("server did not start:\n%s", logs.String())
	}
	go io.Copy(io.Discard, stdout)

	// A wrong password is refused and keeps nothing.
	if out, err := cliErr(bin, configDir, "wrong password!\n", "login", "--server", url, "--email", "admin@example.org", "--password-stdin"); err == nil {
		t.Errorf("login with a wrong password succeeded: %s", out)
	}
	cli(t, bin, configDir, "correct horse battery\n", "login", "--server", url, "--email", "admin@example.org", "--password-stdin")

	// The demo committee is the first one; the admin schedules a meeting on it.
	out = cli(t, bin, configDir, "", "meeting", "create", "--committee", "1", "--title", "Extraordinary Planning Committee",
		"--starts", "2026-12-03T10:00:00Z", "--location", "Council Chamber", "--json")
	var m struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.ID == 0 || m.Status != "scheduled" {
		t.Fatalf("meeting create --json: got %q (%v)", out, err)
	}
	id := fmt.Sprint(m.ID)

	csvPath := filepath.Join(t.TempDir(), "agenda.csv")
	os.WriteFile(csvPath, []byte("number,title,kind,exempt_paragraph,papers\n"+
		"1,Apologies for absence,standard,,\n"+
		"2,\"24/0099/OUT — Former depot, Stryd Fawr\",planning,,Officer report <https://example.org/report.pdf>\n"+
		"3,Legal advice on an appeal,exempt,16,\n"), 0o600)
	badPath := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(badPath, []byte("number,title,kind\n1,Fine,standard\n2,,planning\n3,Odd,secret\n"), 0o600)

	out, err := cliErr(bin, configDir, "", "agenda", "import", "--meeting", id, badPath)
	if err == nil || !strings.Contains(out, "row 3, title") || !strings.Contains(out, "row 4, kind") {
		t.Errorf("importing a bad CSV: got %v %q, want errors naming row 3 title and row 4 kind", err, out)
	}
	out = cli(t, bin, configDir, "", "agenda", "import", "--meeting", id, csvPath)
	if !strings.Contains(out, "added 3 items") {
		t.Errorf("agenda import: got %q", out)
	}

	out = cli(t, bin, configDir, "", "meeting", "start", id)
	if !strings.Contains(out, "in progress") {
		t.Errorf("meeting start: got %q", out)
	}
	out = cli(t, bin, configDir, "", "meeting", "next", id)
	if !strings.Contains(out, "item 1: Apologies for absence") {
		t.Errorf("meeting next: got %q", out)
	}
	cli(t, bin, configDir, "", "meeting", "next", id)
	out = cli(t, bin, configDir, "", "meeting", "next", id)
	if !strings.Contains(out, "private session") || !strings.Contains(out, "item 3") {
		t.Errorf("meeting next onto the exempt item: got %q, want private session on item 3", out)
	}
	out = cli(t, bin, configDir, "", "meeting", "close", id)
	if !strings.Contains(out, "closed, public session") {
		t.Errorf("meeting close: got %q", out)
	}
	if out, err := cliErr(bin, configDir, "", "meeting", "start", id); err == nil || !strings.Contains(out, "409") {
		t.Errorf("starting a closed meeting: got %v %q, want a 409 refusal", err, out)
	}

	out = cli(t, bin, configDir, "", "meeting", "show", id)
	for _, want := range []string{"closed", "Apologies for absence", "exempt (para 16)", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("meeting show: want %q in\n%s", want, out)
		}
	}
	out = cli(t, bin, configDir, "", "meeting", "list")
	if !strings.Contains(out, "Extraordinary Planning Committee") || !strings.Contains(out, "Planning Committee") {
		t.Errorf("meeting list: got\n%s", out)
	}

	// The public sees the meeting only once it is published: this one was not.
	resp, err := http.Get(url + "/api/v1/meetings/" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("public GET of an unpublished meeting: got %d, want 404", resp.StatusCode)
	}

	// Logging out revokes the token on the server.
	out = cli(t, bin, configDir, "", "logout")
	if !strings.Contains(out, "signed out") {
		t.Errorf("logout: got %q", out)
	}
	if out, err := cliErr(bin, configDir, "", "meeting", "list", "--server", url); err != nil || strings.Contains(out, "Extraordinary") {
		t.Errorf("after logout, meeting list as the public: got %v %q, want the published meetings only", err, out)
	}

	cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		// Wait reports the cancelled context; what matters is the exit status.
		if code := srv.ProcessState.ExitCode(); code != 0 {
			t.Errorf("server exit: %v (status %d)\n%s", err, code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("server did not stop on SIGTERM")
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("want a clean shutdown in the log, got:\n%s", logs.String())
	}
}
