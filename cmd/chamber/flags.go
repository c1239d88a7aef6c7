package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errSilent
		}
		return usageError{err.Error()}
	}
	return nil
}

// envName is the environment variable for a flag: database-url → CHAMBER_DATABASE_URL.
func envName(flagName string) string {
	return "CHAMBER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
