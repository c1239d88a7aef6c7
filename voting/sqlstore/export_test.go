package sqlstore

import "github.com/chamber/chamber/voting"

// CommitTogether commits ordinary ballots of a meeting in one batch, as ballots that
// arrive while a batch is being written are, and returns each one's outcome in order.
func (s *Store) CommitTogether(meeting int64, subs []voting.BallotSubmission) ([]voting.StoredBallot, []bool, []error, error) {
	batch := make([]*pendingBallot, len(subs))
	for i, in := range subs {
		p, err := newPendingBallot(in)
		if err != nil {
			return nil, nil, nil, err
		}
		batch[i] = p
	}
	s.commitBatch(meeting, batch)
	out, dup, errs := make([]voting.StoredBallot, len(subs)), make([]bool, len(subs)), make([]error, len(subs))
	for i, p := range batch {
		<-p.done
		out[i], dup[i], errs[i] = p.out, p.dup, p.err
	}
	return out, dup, errs, nil
}

// BatchesAtOnce returns how many batches the store has written in one statement.
func (s *Store) BatchesAtOnce() int64 { return s.atOnce.Load() }
