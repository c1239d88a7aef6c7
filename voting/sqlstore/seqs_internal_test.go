package sqlstore

import (
	"testing"

	"github.com/jmoiron/sqlx"
)

// TestJournalSeqsCommitted: a number a transaction writes is recalled once it commits,
// never if it does not; a number older than the one recalled is ignored.
func TestJournalSeqsCommitted(t *testing.T) {
	j := newJournalSeqs()
	if _, ok := j.get(7); ok {
		t.Fatal("a number recalled before any was noted")
	}
	j.note(7, 10)
	undone, done := &sqlx.Tx{}, &sqlx.Tx{}
	j.written(undone, 7, 11)
	j.written(done, 7, 12)
	if seq, _ := j.get(7); seq != 10 {
		t.Errorf("recalled %d while the writers are open, want 10", seq)
	}
	j.discard(undone)
	if seq, _ := j.get(7); seq != 10 {
		t.Errorf("recalled %d after a rollback, want 10", seq)
	}
	j.commit(done)
	if seq, _ := j.get(7); seq != 12 {
		t.Errorf("recalled %d after a commit, want 12", seq)
	}
	j.note(7, 11) // read before the commit, answered after it
	if seq, _ := j.get(7); seq != 12 {
		t.Errorf("recalled %d after an older read, want 12", seq)
	}
	if len(j.pending) != 0 {
		t.Errorf("%d transactions still pending", len(j.pending))
	}
}
