package main

import (
	"context"
	"errors"
)

// benchRoom measures the live room: chamber bench room.
func benchRoom(ctx context.Context, e env, args []string) error {
	return errors.New("bench room: not built yet")
}
