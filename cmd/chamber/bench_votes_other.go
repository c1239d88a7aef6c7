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

func ownCPU() (float64, error) {
	return 0, errors.New("reading this process's CPU time needs a Unix system")
}
