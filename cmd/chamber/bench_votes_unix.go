//go:build unix

package main

import (
	"os"
	"syscall"
)

// raiseVoteFileLimit lets this process (and the server it starts) hold a connection
// per voter.
func raiseVoteFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// signalVoteProfile tells a server started with profileEnv to start or stop its CPU
// profile.
func signalVoteProfile(p *os.Process, start bool) error {
	if start {
		return p.Signal(syscall.SIGUSR1)
	}
	return p.Signal(syscall.SIGUSR2)
}
