//go:build !unix

package main

import (
	"errors"
	"os"
)

// profileOnSignal does nothing where there are no user signals.
func profileOnSignal(func(string) string, *os.File) (stop func()) { return func() {} }

func signalProfile(*os.Process, bool) error {
	return errors.New("profiling on signal needs a Unix system")
}
