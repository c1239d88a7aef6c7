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

// ownCPU returns this process's CPU time so far (user and system), in seconds.
func ownCPU() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, nil
}
