package main

import (
	"context"
	"errors"
)

// benchVotes measures voting: chamber bench votes.
func benchVotes(ctx context.Context, e env, args []string) error {
	return errors.New("bench votes: not built yet")
}
