package migrations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// reads records each read a Coalescer makes and can hold it until released.
type reads struct {
	mu    sync.Mutex
	calls [][]int
	hold  chan struct{} // when not nil, a read waits for it to close
	gen   int           // bumped by each read: tells which read answered
	fail  error
}

func (r *reads) read(_ context.Context, keys []int) (map[int]string, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(keys))
	r.gen++
	gen, hold, fail := r.gen, r.hold, r.fail
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if fail != nil {
		return nil, fail
	}
	out := map[int]string{}
	for _, k := range keys {
		if k >= 0 { // negative keys do not exist
			out[k] = fmt.Sprintf("%d@%d", k, gen)
		}
	}
	return out, nil
}

func (r *reads) snapshot() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func TestCoalescerLoneLookup(t *testing.T) {
	r := &reads{}
	c := NewCoalescer(100, r.read)
	v, ok, err := c.Get(context.Background(), 7)
	if err != nil || !ok || v != "7@1" {
		t.Fatalf("Get(7) = %q, %v, %v; want 7@1, true, nil", v, ok, err)
	}
	if _, ok, err := c.Get(context.Background(), -1); err != nil || ok {
		t.Fatalf("Get(-1): ok %v, err %v; want a missing key", ok, err)
	}
	if got := r.snapshot(); len(got) != 2 || !slices.Equal(got[0], []int{7}) || !slices.Equal(got[1], []int{-1}) {
		t.Fatalf("reads %v, want [[7] [-1]]", got)
	}
	missing := errors.New("no such thing")
	if v, err := c.Find(context.Background(), 8, missing); err != nil || v != "8@3" {
		t.Errorf("Find(8) = %q, %v; want 8@3", v, err)
	}
	if _, err := c.Find(context.Background(), -2, missing); !errors.Is(err, missing) {
		t.Errorf("Find(-2): %v, want %v", err, missing)
	}
}

// While a read runs, the keys asked for wait and go together in one more read, which
// starts after they were asked for.
func TestCoalescerGathersWhileReading(t *testing.T) {
	r := &reads{hold: make(chan struct{})}
	c := NewCoalescer(1000, r.read)
	first := make(chan string)
	go func() {
		v, _, _ := c.Get(context.Background(), 0)
		first <- v
	}()
	waitFor(t, func() bool { return len(r.snapshot()) == 1 })

	const n = 50
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, ok, err := c.Get(context.Background(), 1+i%25) // each key asked for twice
			if err != nil || !ok {
				t.Errorf("Get(%d): ok %v, err %v", 1+i%25, ok, err)
			}
			got[i] = v
		}()
	}
	// Let them all queue behind the running read, then release it.
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.next != nil && c.next.asks == n
	})
	close(r.hold)
	if v := <-first; v != "0@1" {
		t.Fatalf("first lookup answered %q, want 0@1", v)
	}
	wg.Wait()
	for i, v := range got {
		if want := fmt.Sprintf("%d@2", 1+i%25); v != want {
			t.Errorf("lookup %d answered %q, want %q (from the read that began after it)", i, v, want)
		}
	}
	calls := r.snapshot()
	if len(calls) != 2 || len(calls[1]) != 25 {
		t.Fatalf("reads %v: want 2, the second with the 25 distinct keys", calls)
	}
}

func TestCoalescerReadsAtMostMax(t *testing.T) {
	r := &reads{hold: make(chan struct{})}
	c := NewCoalescer(3, r.read)
	go c.Get(context.Background(), 100)
	waitFor(t, func() bool { return len(r.snapshot()) == 1 })
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, ok, err := c.Get(context.Background(), i); err != nil || !ok || v == "" {
				t.Errorf("Get(%d) = %q, %v, %v", i, v, ok, err)
			}
		}()
	}
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.next != nil && c.next.asks == 10
	})
	close(r.hold)
	wg.Wait()
	var keys []int
	for _, call := range r.snapshot()[1:] {
		if len(call) > 3 {
			t.Errorf("a read of %d keys, more than 3", len(call))
		}
		keys = append(keys, call...)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("keys read %v, want 0 to 9 once each", keys)
	}
}

func TestCoalescerErrorsReachEveryWaiter(t *testing.T) {
	boom := errors.New("database down")
	r := &reads{fail: boom}
	c := NewCoalescer(10, r.read)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.Get(context.Background(), i); !errors.Is(err, boom) {
				t.Errorf("Get(%d) error %v, want %v", i, err, boom)
			}
		}()
	}
	wg.Wait()
}

func TestCoalescerCallerGivesUp(t *testing.T) {
	r := &reads{hold: make(chan struct{})}
	defer close(r.hold)
	c := NewCoalescer(10, r.read)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := c.Get(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with a read that never ends: %v, want the context's deadline", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}
