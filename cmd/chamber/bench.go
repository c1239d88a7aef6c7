package main

import "context"

// runBench dispatches the benchmarks. Each measures a running `chamber serve` from the
// outside, as its users would load it.
func runBench(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "bench", args, map[string]func(context.Context, env, []string) error{
		"room":  benchRoom,
		"votes": benchVotes,
	})
}
