//go:build unix

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
)

// profileOnSignal arms the profile when the environment asks for one, and returns a
// function that writes any profile still running.
func profileOnSignal(getenv func(string) string, stderr *os.File) (stop func()) {
	path := getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	var (
		mu      sync.Mutex // guards f
		f       *os.File
		signals = make(chan os.Signal, 1)
		done    = make(chan struct{})
	)
	finish := func() {
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
		}
	}
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for {
			select {
			case s := <-signals:
				if s == syscall.SIGUSR2 {
					finish()
					continue
				}
				mu.Lock()
				if f == nil {
					var err error
					if f, err = os.Create(path); err == nil {
						err = pprof.StartCPUProfile(f)
					}
					if err != nil {
						fmt.Fprintln(stderr, "chamber: cpu profile:", err)
						if f != nil {
							f.Close()
							f = nil
						}
					}
				}
				mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
		finish()
	}
}

// signalProfile tells a process started with profileEnv to start or stop profiling.
func signalProfile(p *os.Process, start bool) error {
	if start {
		return p.Signal(syscall.SIGUSR1)
	}
	return p.Signal(syscall.SIGUSR2)
}
