//go:build !unix

package main

import (
	"errors"
	"os"
)

func raiseVoteFileLimit() {}

func signalVoteProfile(*os.Process, bool) error {
	return errors.New("profiling the server needs a Unix system")
}
