package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/web"
	"github.com/chamber/chamber/web/node"
)

// newFlagSet returns a flag set for a subcommand that reports errors instead of exiting.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("chamber "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse reads flags from the environment (CHAMBER_<FLAG>) and then from args, which win.
func parse(fs *flag.FlagSet, e env, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		key := envName(f.Name)
		if v := e.getenv(key); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", key, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{err.Error()}
	}
	// Flags may come before or after the arguments (chamber minutes export 7 --format
	// pdf); everything after "--" is an argument.
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errSilent
			}
			return usageError{err.Error()}
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if used := len(rest) - len(left); used > 0 && rest[used-1] == "--" {
			positional = append(positional, left...)
			break
		}
		positional, rest = append(positional, left[0]), left[1:]
	}
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// envName is the environment variable for a flag: database-url → CHAMBER_DATABASE_URL.
func envName(flagName string) string {
	return "CHAMBER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// thisNode names this node to the others sharing Redis, by --node-id or else by the
// host name and a random suffix, with the signalling URL made from its public URL.
func thisNode(id, publicURL string) (signaling.Node, error) {
	if id == "" {
		id = node.NewID()
	}
	n := signaling.Node{ID: id, URL: web.SignallingURL(publicURL)}
	if err := n.Validate(); err != nil {
		return signaling.Node{}, usagef("--node-id: %v", err)
	}
	return n, nil
}
