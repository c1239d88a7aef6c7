package main

import (
	"os"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(binPath[:len(binPath)-len("/chamber")])
	}
	os.Exit(code)
}
