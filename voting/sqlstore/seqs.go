package sqlstore

import (
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/chamber/chamber/voting"
)

// Every ballot is checked against the roll as it stands at its meeting's journal
// sequence number, and reading that number was the one read left in front of every
// ballot of a burst. So the store recalls the number it last read, or committed
// itself (opening and closing polls), and a ballot checked against a recalled number
// is stored only if the journal still has it as the ballot commits: the fast statement
// checks it in its condition, and the careful transaction ballot by ballot (fallen),
// refusing the others with voting.ErrStale for the service to check again against the
// number read afresh. The journal only ever moves on, so a roll read after it reached
// n and checked against n at commit was the roll at n. A number is recalled only once
// committed: a rolled-back transaction's would name a journal entry that never was.

// meetingSeqsQuery reads meetings' journal numbers (meetingSeq), for a list of ids.
const meetingSeqsQuery = `SELECT id, last_seq FROM meetings WHERE id IN (?)`

// meetingSeq is a meeting's journal number as read.
type meetingSeq struct {
	ID  int64 `db:"id"`
	Seq int64 `db:"last_seq"`
}

// recallSeqs recalls the numbers read and returns them by meeting.
func (s *Store) recallSeqs(rows []meetingSeq) map[int64]int64 {
	seqs := make(map[int64]int64, len(rows))
	for _, r := range rows {
		seqs[r.ID] = r.Seq
		s.seqs.note(r.ID, r.Seq)
	}
	return seqs
}

// maxSeqsKept bounds the meetings whose numbers are recalled; past it, all are
// forgotten and read again as they are needed.
const maxSeqsKept = 4096

// journalSeqs are the meetings' journal sequence numbers as last read or committed
// here, and those written by transactions not yet committed.
type journalSeqs struct {
	mu      sync.Mutex
	seqs    map[int64]int64
	pending map[*sqlx.Tx]map[int64]int64
}

func newJournalSeqs() *journalSeqs {
	return &journalSeqs{seqs: map[int64]int64{}, pending: map[*sqlx.Tx]map[int64]int64{}}
}

// get returns a meeting's number, if it is known.
func (j *journalSeqs) get(meeting int64) (int64, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	seq, ok := j.seqs[meeting]
	return seq, ok
}

// note records a meeting's number, read or committed; an older one than is known is
// ignored.
func (j *journalSeqs) note(meeting, seq int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.noteLocked(meeting, seq)
}

func (j *journalSeqs) noteLocked(meeting, seq int64) {
	if old, ok := j.seqs[meeting]; ok && old >= seq {
		return
	}
	if len(j.seqs) >= maxSeqsKept {
		clear(j.seqs)
	}
	j.seqs[meeting] = seq
}

// written records a number a transaction has written, to be noted if it commits.
func (j *journalSeqs) written(tx *sqlx.Tx, meeting, seq int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pending[tx] == nil {
		j.pending[tx] = map[int64]int64{}
	}
	j.pending[tx][meeting] = max(j.pending[tx][meeting], seq)
}

// commit notes what tx wrote, now that it has committed.
func (j *journalSeqs) commit(tx *sqlx.Tx) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for meeting, seq := range j.pending[tx] {
		j.noteLocked(meeting, seq)
	}
	delete(j.pending, tx)
}

// discard forgets what tx wrote: it did not commit.
func (j *journalSeqs) discard(tx *sqlx.Tx) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.pending, tx)
}

// RecalledSeqAndKey implements voting.Store.
func (s *Store) RecalledSeqAndKey(meeting int64, id voting.KeyID) (int64, voting.Key, bool) {
	seq, ok := s.seqs.get(meeting)
	if !ok {
		return 0, voting.Key{}, false
	}
	k, ok := s.keys.get(id)
	if !ok {
		return 0, voting.Key{}, false
	}
	return seq, k, true
}
