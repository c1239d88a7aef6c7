package voting_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// TestLogKeepsItsOrigin checks that a meeting's log keeps the name it was created with
// when the server comes back under another public URL (another host or port): the
// receipts given before still verify with the meeting's verifier key, the same
// ballot sent again gets the same receipt, new ballots are taken in the same log, and
// the meeting's record verifies whole, under the first name.
func TestLogKeepsItsOrigin(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		f, p := w.pollIn("england", w.chair, w.m1, w.m2, w.m3)
		first := w.ballot(p, w.m1, "for")
		r1, err := w.svc.Cast(w.ctx, w.m1, first)
		w.must(err)
		vkey1, err := w.svc.VerifierKey(w.ctx, f.meeting.ID)
		w.must(err)
		const want = "chamber.example.gov.uk/meetings/"
		if origin, _ := w.svc.Origin(w.ctx, f.meeting.ID); origin != want+itoa(f.meeting.ID) {
			t.Fatalf("origin %q, want %q", origin, want+itoa(f.meeting.ID))
		}

		// The server comes back on another port.
		moved := voting.NewService(w.store, w.agenda, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: w.logKey,
			Origin: "http://localhost:8081", ProgressEvery: -1})
		origin, err := moved.Origin(w.ctx, f.meeting.ID)
		w.must(err)
		if origin != want+itoa(f.meeting.ID) {
			t.Errorf("after the move the log is named %q, want %q", origin, want+itoa(f.meeting.ID))
		}
		vkey2, err := moved.VerifierKey(w.ctx, f.meeting.ID)
		w.must(err)
		if vkey2 != vkey1 {
			t.Errorf("verifier key after the move %q, before %q", vkey2, vkey1)
		}
		leaf, err := voting.EncodeBallotEntry(first)
		w.must(err)
		if _, err := voting.VerifyReceipt(r1, leaf, vkey2); err != nil {
			t.Errorf("a receipt given before the move: %v", err)
		}
		again, err := moved.Cast(w.ctx, w.m1, first)
		w.must(err)
		if again.Checkpoint != r1.Checkpoint || again.Index != r1.Index {
			t.Errorf("the same ballot after the move got %+v, want %+v", again, r1)
		}
		w.clock.Advance(time.Second)
		r2, err := moved.Cast(w.ctx, w.m2, w.ballot(p, w.m2, "for"))
		w.must(err)
		cp, err := voting.OpenCheckpoint([]byte(r2.Checkpoint), vkey1)
		if err != nil || cp.Origin != want+itoa(f.meeting.ID) {
			t.Errorf("a receipt after the move: checkpoint %+v, %v", cp, err)
		}
		if _, err := moved.Close(w.ctx, w.clerk, p.ID); err != nil {
			t.Fatal(err)
		}

		// A second poll opens in the same log, and the record verifies whole with the
		// key derived from the server's key and the first name.
		p2 := voting.PollInput{MeetingID: f.meeting.ID, ItemID: f.items[standardItem].ID, Question: "Again"}
		opened, err := moved.OpenPoll(w.ctx, w.clerk, p2)
		w.must(err)
		if _, err := moved.Cast(w.ctx, w.m3, w.ballot(opened, w.m3, "for")); err != nil {
			t.Fatal(err)
		}
		_, err = moved.Close(w.ctx, w.clerk, opened.ID)
		w.must(err)
		rec, err := moved.Record(w.ctx, w.clerk, f.meeting.ID)
		w.must(err)
		if rec.Log.Origin != want+itoa(f.meeting.ID) {
			t.Errorf("record of log %q", rec.Log.Origin)
		}
		if problems := voting.VerifyRecord(rec, vkey1); len(problems) > 0 {
			t.Errorf("record after the move: %v", problems)
		}

		// A meeting whose log is created after the move is named after the new URL.
		g := w.meeting("england")
		g.arrive(agenda.InRoom, w.chair, w.m1, w.m2)
		g.take(standardItem)
		if _, err := moved.OpenPoll(w.ctx, w.clerk, g.input(standardItem)); err != nil {
			t.Fatal(err)
		}
		if o, _ := moved.Origin(w.ctx, g.meeting.ID); o != "localhost:8081/meetings/"+itoa(g.meeting.ID) {
			t.Errorf("new meeting's log named %q", o)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
