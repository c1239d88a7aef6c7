// Command chamber runs virtual and hybrid council meetings. `chamber serve` is the
// server: HTTP API, WebSocket signalling, the SFU and the web UI. Its other subcommands
// are the clerk's and the administrator's command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := profileOnSignal(os.Getenv, os.Stderr)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "chamber:", err)
			os.Exit(2)
		}
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(os.Stderr, "chamber:", err)
		}
		os.Exit(1)
	}
}

// env is how run reads the environment; tests pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// commands are chamber's subcommands. Those with several words dispatch further.
var commands map[string]command

func init() {
	commands = map[string]command{
		"serve":    {"run the server (API, signalling, SFU, web UI)", runServe},
		"migrate":  {"database migrations: status, up", runMigrate},
		"admin":    {"administration: create the first admin account", runAdmin},
		"login":    {"sign in to a server and keep the token for other commands", runLogin},
		"logout":   {"forget the kept token", runLogout},
		"meeting":  {"meetings: create, list, show, start, next, previous, adjourn, resume, close", runMeeting},
		"agenda":   {"agendas: import FILE, show", runAgenda},
		"version":  {"print the version", runVersion},
		"bench":    {"benchmarks: room (the live room's SFU), votes (casting under load)", runBench},
		"keygen":   {"write a new key file for signing ballots (or the server's log key)", runKeygen},
		"verify":   {"check a meeting's published vote record offline", runVerify},
		"minutes":  {"minutes: export MEETING --format html|md|pdf|csv|popolo|record, versions MEETING", runMinutes},
		"rehearse": {"play a whole demo meeting with simulated members and write every export", runRehearse},
	}
}

// usageError is a mistake on the command line; main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errSilent means the command has already said what went wrong.
var errSilent = errors.New("failed")

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		printUsage(stderr)
		return usagef("unknown command %q", args[0])
	}
	return c.run(ctx, e, args[1:])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: chamber <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can also be set as CHAMBER_<FLAG> in the environment (--database-url: CHAMBER_DATABASE_URL).")
	fmt.Fprintln(w, "Run 'chamber <command> -h' for a command's flags.")
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func runVersion(_ context.Context, e env, _ []string) error {
	fmt.Fprintln(e.stdout, "chamber", version)
	return nil
}

// subcommand dispatches the first argument among subs.
func subcommand(ctx context.Context, e env, name string, args []string, subs map[string]func(context.Context, env, []string) error) error {
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(args) == 0 {
		return usagef("usage: chamber %s %s", name, strings.Join(keys, "|"))
	}
	fn, ok := subs[args[0]]
	if !ok {
		return usagef("unknown command %q: chamber %s %s", args[0], name, strings.Join(keys, "|"))
	}
	return fn(ctx, e, args[1:])
}
