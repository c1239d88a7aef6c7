package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
)

func runMigrate(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "migrate", args, map[string]func(context.Context, env, []string) error{
		"status": migrateStatus,
		"up":     migrateUp,
	})
}

func migrateStatus(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("migrate status", e)
	db := addDBFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	conn, err := migrations.Connect(ctx, db.config(nil))
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := migrations.StatusOf(ctx, conn)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, st)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tMIGRATION\tSTATE\tAPPLIED AT")
	pending := 0
	for _, s := range st {
		state, at := "pending", ""
		if s.Applied {
			state, at = "applied", s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		} else {
			pending++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Version, s.Name, state, at)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%s database: %d migrations, %d pending\n", conn.Dialect, len(st), pending)
	return nil
}

func migrateUp(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("migrate up", e)
	db := addDBFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	conn, err := migrations.Open(ctx, db.config(nil))
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(e.stdout, "%s database is up to date\n", conn.Dialect)
	return nil
}

func runAdmin(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "admin", args, map[string]func(context.Context, env, []string) error{
		"create": adminCreate,
	})
}

// adminCreate bootstraps an administrator straight into the database: there is no one to
// ask over the API yet.
func adminCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("admin create", e)
	db := addDBFlags(fs)
	email := fs.String("email", "", "the administrator's email address (required)")
	name := fs.String("name", "", "the administrator's name (required)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return usagef("admin create needs --email and --name")
	}
	password, err := readPassword(e, *pwStdin, "Password for "+*email+": ")
	if err != nil {
		return err
	}
	conn, err := migrations.Open(ctx, db.config(nil))
	if err != nil {
		return err
	}
	defer conn.Close()
	svc := agenda.NewService(sqlstore.New(conn), agenda.Options{})
	u, err := svc.CreateAdmin(ctx, *email, *name, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created admin %s <%s> (id %d)\n", u.Name, u.Email, u.ID)
	return nil
}

// readPassword reads a password from standard input's first line, or asks on the
// terminal without echo.
func readPassword(e env, fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("no password on standard input")
		}
		return pw, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("standard input is not a terminal: pass --password-stdin and the password on standard input")
	}
	fmt.Fprint(e.stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
