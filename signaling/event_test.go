package signaling

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"testing"
	"time"
)

func TestLocalBus(t *testing.T) {
	ctx := context.Background()
	b := NewLocalBus()
	var a, c []int64
	unsubA, err := b.SubscribeMeetingEvents(ctx, func(ev MeetingEvent) { a = append(a, ev.Seq) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SubscribeMeetingEvents(ctx, func(ev MeetingEvent) { c = append(c, ev.Seq) }); err != nil {
		t.Fatal(err)
	}
	for seq := int64(1); seq <= 3; seq++ {
		if seq == 3 {
			unsubA()
		}
		if err := b.PublishMeetingEvent(ctx, MeetingEvent{MeetingID: 1, Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int64{1, 2}; !slices.Equal(a, want) {
		t.Errorf("unsubscribed subscriber got %v, want %v", a, want)
	}
	if want := []int64{1, 2, 3}; !slices.Equal(c, want) {
		t.Errorf("subscriber got %v, want %v", c, want)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.PublishMeetingEvent(cancelled, MeetingEvent{}); !errors.Is(err, context.Canceled) {
		t.Errorf("publish with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestPipe(t *testing.T) {
	a, b := Pipe()
	if err := a.WriteMessage([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadMessage(); err != nil || string(got) != "one" {
		t.Fatalf("ReadMessage = %q, %v; want one", got, err)
	}
	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := b.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	b.SetReadDeadline(time.Time{})
	a.WriteMessage([]byte("last"))
	a.Close()
	if got, err := b.ReadMessage(); err != nil || string(got) != "last" {
		t.Errorf("message sent before close: %q, %v", got, err)
	}
	if _, err := b.ReadMessage(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v, want net.ErrClosed", err)
	}
	if err := b.WriteMessage([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v, want net.ErrClosed", err)
	}
}
