package sqlstore

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/chamber/chamber/voting"
)

// On PostgreSQL every statement is a round trip, and while a burst of ballots keeps
// the server's processors busy each round trip waits its turn to be scheduled twice,
// once in the database and once here: a batch of seven round trips (begin, lock, the
// polls, the nonces, the append, the insert, commit) took longer to commit one ballot
// than the burst took to arrive. So a batch first tries to go in one statement,
// committed on its own, written on what this process knows of the meeting's log: its
// size after the last append committed here, and its hashes. The statement writes
// only if the log still has that size and every poll the batch votes in is still open
// with no count of hands, which everything else that writes to the log or closes a
// poll changes under the log's lock, if no key that signed one of its ballots has
// been revoked, if the credentials their senders signed in with still stand, and if
// the meeting's journal is still at the number the ballots were checked at, when that
// was recalled (seqs.go); and the ballots' unique keys refuse a nonce used before or a
// ballot sent again. When any of that does not hold, nothing is written
// and the batch goes the careful way (commitBatch), which reads all of it under the
// lock and answers each ballot on its own.

// commitAtOnce writes a batch of ordinary ballots in one statement, if it can, and
// says whether it did; if it did, every ballot of the batch has its outcome.
func (s *Store) commitAtOnce(ctx context.Context, meeting int64, batch []*pendingBallot) bool {
	n, ok := s.hashes.lastSize(meeting)
	if !ok {
		return false
	}
	// The same ballot twice in the batch, or two ballots with one nonce: the careful way.
	seen := make(map[string]bool, 2*len(batch))
	var seq int64 // the recalled journal number the ballots were checked at, if any
	var polls []int64
	pollSeen := map[int64]bool{}
	leaves := make([][]byte, len(batch))
	accept := make([]int, len(batch))
	for i, p := range batch {
		b := p.in.Ballot
		nonce := p.nonceKey()
		if seen[p.hash] || seen[nonce] || b.Meeting != meeting {
			return false
		}
		seen[p.hash], seen[nonce] = true, true
		if !pollSeen[b.Poll] {
			pollSeen[b.Poll] = true
			polls = append(polls, b.Poll)
		}
		leaves[i], accept[i] = p.leaf, i
		// Ballots checked against two recalled journal numbers: at most one holds.
		if p.in.Seq != 0 {
			if seq != 0 && p.in.Seq != seq {
				return false
			}
			seq = p.in.Seq
		}
	}
	plan := &plannedAppend{logStore: &logStore{s: s, q: s.db.Reader, meeting: meeting}, n: n}
	if _, err := voting.NewLog("", plan).Append(ctx, leaves...); err != nil {
		return false
	}
	size := n + int64(len(batch))
	data := make([]string, len(leaves))
	for i, leaf := range leaves {
		data[i] = b64.EncodeToString(leaf)
	}
	hashes := make([]string, len(plan.hashes))
	for i, h := range plan.hashes {
		hashes[i] = h.String()
	}
	tokens, sessions := batchCredentials(batch)
	args := append(ballotArrays(batch, accept, n), size, meeting, n, pq.Array(polls), len(polls),
		textArray(data), plan.start, textArray(hashes), textArray(batchKeys(batch)), pq.Array(tokens), textArray(sessions), seq)
	var rows []struct {
		ID    int64 `db:"id"`
		Index int64 `db:"log_index"`
	}
	err := s.db.SelectPrepared(ctx, &rows, batchAtOnce, args...)
	if err != nil || len(rows) != len(batch) {
		// Nothing was written: an error undoes the whole statement, and without the
		// log's move nothing is inserted. (Had the connection failed after the commit,
		// the careful way finds the ballots stored and answers them as stored.)
		s.hashes.forgetSize(meeting)
		return false
	}
	s.atOnce.Add(1)
	s.hashes.appended(appendedHashes{meeting: meeting, start: plan.start, hashes: plan.hashes, leaves: size})
	ids := make(map[int64]int64, len(rows))
	for _, r := range rows {
		ids[r.Index] = r.ID
	}
	for k, p := range batch {
		index := n + int64(k)
		p.finish(voting.StoredBallot{ID: ids[index], Signed: p.in.Signed, Ballot: p.in.Ballot, Key: p.in.Key,
			Index: index, ReceivedAt: p.in.ReceivedAt.UTC(), ReceiptSize: size}, false, nil)
	}
	return true
}

// batchAtOnce is commitAtOnce's statement. Its parameters: the ballots' arrays
// ($1–$15, ballotArrays); the log's size after it ($16); the meeting ($17); the log's
// size before it ($18); the polls voted in ($19) and how many they are ($20); the
// leaves' data ($21); where the new hashes start ($22); the hashes ($23); the keys
// that signed the ballots ($24), none of which may have been revoked; and the API
// tokens ($25) and sessions ($26) their senders signed in with, each of which must
// still be there (voting.Credential); and the recalled journal number the ballots were
// checked at ($27; 0, none), which must still be the meeting's (seqs.go).
var batchAtOnce = `WITH moved AS (
			UPDATE vote_logs SET size = $16 WHERE meeting_id = $17 AND size = $18
			AND (SELECT COUNT(*) FROM polls WHERE id = ANY($19::bigint[]) AND meeting_id = $17
				AND closed_at IS NULL AND room_hands = 0) = $20
			AND NOT EXISTS (SELECT 1 FROM voting_keys WHERE id = ANY($24::text[]) AND revoked_at IS NOT NULL)
			AND (SELECT COUNT(*) FROM api_tokens WHERE id = ANY($25::bigint[])) = cardinality($25::bigint[])
			AND (SELECT COUNT(*) FROM sessions WHERE id = ANY($26::text[])) = cardinality($26::text[])
			AND ($27::bigint = 0 OR (SELECT last_seq FROM meetings WHERE id = $17) = $27)
			RETURNING 1
		), ` + appendedAfterMove("$17", "$18", "$21", "$22", "$23") + `
		INSERT INTO ballots (` + ballotColumns + `) SELECT *, $16::bigint FROM ` + ballotsUnnest + `
		WHERE EXISTS (SELECT 1 FROM moved) RETURNING id, log_index`

// plannedAppend is a log store that stores nothing: it answers a size given it, reads
// hashes as the log's own store does, and keeps what an append would have stored.
type plannedAppend struct {
	*logStore
	n      int64
	start  int64
	hashes []tlog.Hash
}

func (p *plannedAppend) Size(context.Context) (int64, error) { return p.n, nil }

func (p *plannedAppend) Append(_ context.Context, n int64, _ [][]byte, start int64, hashes []tlog.Hash) error {
	if n != p.n {
		return fmt.Errorf("append at %d to a log of %d: %w", n, p.n, voting.ErrConflict)
	}
	p.start, p.hashes = start, hashes
	return nil
}
