package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
)

// Ballots arrive in bursts: everyone votes when the chair opens the poll. Each must
// commit with its log entry before it is acknowledged, and a meeting's log takes one
// append at a time (its row is locked), so one transaction per ballot would queue
// every voter behind every other for a commit each. Instead the ballots of a meeting
// that arrive while a transaction is writing wait for it to end, then go together in
// the next (group commit): one lock, one append of many leaves and one commit for all
// of them. Each ballot is still checked on its own inside the transaction, and
// refused on its own; none is acknowledged before the transaction that holds it has
// committed. On PostgreSQL a batch first tries to go in a single statement instead
// (batch_once.go).

const (
	// maxBatch bounds the ballots in one transaction (and the parameters of its
	// statements: 16 a ballot, within SQLite's 32766 and PostgreSQL's 65535).
	maxBatch = 1000
	// batchTimeout bounds one batch's transaction.
	batchTimeout = 30 * time.Second
)

// appender queues a meeting's ballots for the next batch. A goroutine drains the queue
// while there is anything in it, and ends when it is empty.
type appender struct {
	mu      sync.Mutex // guards queue, running
	queue   []*pendingBallot
	running bool
}

// pendingBallot is a ballot waiting for its batch, and then its outcome.
type pendingBallot struct {
	in    voting.BallotSubmission
	leaf  []byte
	hash  string // hex SHA-256 of the ballot's bytes
	nonce string // hex
	done  chan struct{}
	out   voting.StoredBallot
	dup   bool
	err   error
}

// newPendingBallot returns a ballot ready to join a batch.
func newPendingBallot(in voting.BallotSubmission) (*pendingBallot, error) {
	leaf, err := voting.EncodeBallotEntry(in.Signed)
	if err != nil {
		return nil, err
	}
	h := in.Signed.Hash()
	return &pendingBallot{in: in, leaf: leaf, hash: hex.EncodeToString(h[:]), nonce: hex.EncodeToString(in.Ballot.Nonce[:]),
		done: make(chan struct{})}, nil
}

// nonceKey names a (poll, voter, nonce) triple, which one stored ballot at most has.
func nonceKey(poll, voter int64, nonce string) string {
	return fmt.Sprintf("%d/%d/%s", poll, voter, nonce)
}

// nonceKey returns the ballot's (poll, voter, nonce) triple, named as nonceKey does.
func (p *pendingBallot) nonceKey() string {
	return nonceKey(p.in.Ballot.Poll, p.in.Ballot.Voter, p.nonce)
}

func (p *pendingBallot) finish(out voting.StoredBallot, dup bool, err error) {
	p.out, p.dup, p.err = out, dup, err
	close(p.done)
}

// submitBatched queues an ordinary ballot for its meeting's next batch and waits for
// the batch to commit, or for ctx to end (the ballot may then still commit: sending
// it again gets its receipt).
func (s *Store) submitBatched(ctx context.Context, in voting.BallotSubmission) (voting.StoredBallot, bool, error) {
	p, err := newPendingBallot(in)
	if err != nil {
		return voting.StoredBallot{}, false, err
	}
	meeting := in.Ballot.Meeting
	s.mu.Lock()
	a := s.appenders[meeting]
	if a == nil {
		a = &appender{}
		s.appenders[meeting] = a
	}
	s.mu.Unlock()
	a.mu.Lock()
	a.queue = append(a.queue, p)
	start := !a.running
	a.running = true
	a.mu.Unlock()
	if start {
		go s.drain(a, meeting)
	}
	select {
	case <-p.done:
		return p.out, p.dup, p.err
	case <-ctx.Done():
		return voting.StoredBallot{}, false, ctx.Err()
	}
}

// drain commits the queue's ballots in batches until the queue is empty.
func (s *Store) drain(a *appender, meeting int64) {
	for {
		a.mu.Lock()
		n := min(len(a.queue), maxBatch)
		if n == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		batch := a.queue[:n:n]
		a.queue = append([]*pendingBallot(nil), a.queue[n:]...)
		a.mu.Unlock()
		s.commitBatch(meeting, batch)
	}
}

// commitBatch writes a batch at once if it can (PostgreSQL), else in one transaction:
// the careful way. If the transaction fails as a whole, which one bad ballot could
// cause, each ballot is tried again in a transaction of its own, so that the others
// are not refused with it.
func (s *Store) commitBatch(meeting int64, batch []*pendingBallot) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	if s.db.Dialect == migrations.Postgres && s.commitAtOnce(ctx, meeting, batch) {
		return
	}
	type outcome struct {
		out voting.StoredBallot
		dup bool
		err error
	}
	outcomes := make([]outcome, len(batch))
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		log, err := s.lockLog(ctx, tx, meeting, "")
		if err != nil {
			return err
		}
		closed, err := s.pollsClosed(ctx, tx, meeting, batch)
		if err != nil {
			return err
		}
		used, again, err := s.usedNonces(ctx, tx, batch)
		if err != nil {
			return err
		}
		fallen, err := s.fallen(ctx, tx, batch)
		if err != nil {
			return err
		}
		// Ballots stored already (sent again) are answered as stored. The same ballot
		// has the same voter and nonce, so the nonces read show whether there are any.
		stored := map[string]voting.StoredBallot{}
		if len(again) > 0 {
			if stored, err = s.ballotsByHash(ctx, tx, again); err != nil {
				return err
			}
		}
		limits := map[int64]*roomLimit{} // polls with a count of hands
		for id, st := range closed {
			if st.hands > 0 && !st.closed {
				if limits[id], err = roomLimitOf(ctx, tx, id, st.hands, st.eligible); err != nil {
					return err
				}
			}
		}
		inBatch := map[string]int{} // hash → the first of the batch with it
		var accept []int
		var leaves [][]byte
		for i, p := range batch {
			b := p.in.Ballot
			nonce := p.nonceKey()
			if sb, ok := stored[p.hash]; ok {
				outcomes[i] = outcome{out: sb, dup: true}
				continue
			}
			if j, ok := inBatch[p.hash]; ok {
				outcomes[i] = outcome{dup: true, err: errSameAs(j)}
				continue
			}
			st, ok := closed[b.Poll]
			switch {
			case !ok:
				outcomes[i].err = fmt.Errorf("submit ballot: poll %d: %w", b.Poll, voting.ErrNotFound)
				continue
			case st.closed:
				outcomes[i].err = fmt.Errorf("submit ballot: poll %d: %w", b.Poll, voting.ErrPollClosed)
				continue
			case used[nonce]:
				outcomes[i].err = fmt.Errorf("submit ballot of voter %d in poll %d: %w", b.Voter, b.Poll, voting.ErrReplay)
				continue
			case fallen[p] != nil:
				outcomes[i].err = fallen[p]
				continue
			case !limits[b.Poll].admits(b.Voter):
				outcomes[i].err = fmt.Errorf("submit ballot of voter %d in poll %d: the count of hands covers every member who had not voted: %w",
					b.Voter, b.Poll, voting.ErrOverCount)
				continue
			}
			used[nonce] = true
			inBatch[p.hash] = i
			accept = append(accept, i)
			leaves = append(leaves, p.leaf)
		}
		if len(accept) == 0 {
			return nil
		}
		first, err := log.Append(ctx, leaves...)
		if err != nil {
			return err
		}
		// Every ballot of the batch has its receipt against the log as this transaction
		// leaves it, so that one signed checkpoint serves them all.
		size := first + int64(len(accept))
		ids, err := s.insertBallots(ctx, tx, batch, accept, first, size)
		if err != nil {
			return err
		}
		for k, i := range accept {
			p := batch[i]
			sb := voting.StoredBallot{ID: ids[k], Signed: p.in.Signed, Ballot: p.in.Ballot, Key: p.in.Key,
				Index: first + int64(k), ReceivedAt: p.in.ReceivedAt.UTC(), ReceiptSize: size}
			outcomes[i].out = sb
		}
		return nil
	})
	if err != nil {
		if len(batch) == 1 {
			batch[0].finish(voting.StoredBallot{}, false, err)
			return
		}
		for _, p := range batch {
			ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
			out, dup, err := s.submitOne(ctx, p.in)
			cancel()
			p.finish(out, dup, err)
		}
		return
	}
	for i, p := range batch {
		o := outcomes[i]
		var same *sameAs
		if errors.As(o.err, &same) {
			o = outcomes[same.i] // the same ballot twice in one batch: the first's outcome
			o.dup = true
		}
		p.finish(o.out, o.dup, o.err)
	}
}

// sameAs marks a ballot sent twice within one batch, answered as its first copy is.
type sameAs struct{ i int }

func (e *sameAs) Error() string { return fmt.Sprintf("the same ballot as number %d of the batch", e.i) }

func errSameAs(i int) error { return &sameAs{i} }

// ballotsByHash returns, by hash, the stored ballots with the given hashes.
func (s *Store) ballotsByHash(ctx context.Context, tx *sqlx.Tx, hashes []string) (map[string]voting.StoredBallot, error) {
	q, args, err := sqlx.In(`SELECT b.hash, b.id, b.ballot, b.signature, k.public_key, b.key_id, b.log_index, b.received_at,
		b.receipt_size FROM ballots b JOIN voting_keys k ON k.id = b.key_id WHERE b.hash IN (?)`, hashes)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ballotRow
		Hash string `db:"hash"`
	}
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("submit ballots: %w", err)
	}
	out := make(map[string]voting.StoredBallot, len(rows))
	for _, r := range rows {
		sb, err := r.stored()
		if err != nil {
			return nil, err
		}
		out[r.Hash] = sb
	}
	return out, nil
}

// batchKeys returns the keys that signed a batch's ballots, each once, as text.
func batchKeys(batch []*pendingBallot) []string {
	seen := make(map[voting.KeyID]bool, len(batch))
	ids := []string{}
	for _, p := range batch {
		if !seen[p.in.Key] {
			seen[p.in.Key] = true
			ids = append(ids, string(p.in.Key))
		}
	}
	return ids
}

// batchCredentials returns the API tokens and sessions a batch's senders signed in
// with, where a ballot is to be stored only if they still stand, each once.
func batchCredentials(batch []*pendingBallot) (tokens []int64, sessions []string) {
	tokens, sessions = []int64{}, []string{} // never nil: a nil array is NULL to PostgreSQL
	seen := map[voting.Credential]bool{}
	for _, p := range batch {
		c := p.in.Credential
		if seen[c] {
			continue
		}
		seen[c] = true
		if c.Token != 0 {
			tokens = append(tokens, c.Token)
		}
		if c.Session != "" {
			sessions = append(sessions, c.Session)
		}
	}
	return tokens, sessions
}

// fallen returns why each ballot of a batch that may no longer be stored is refused,
// as the transaction that stores them sees it: it was checked against a recalled
// journal number and the meeting's journal has moved on since (ErrStale), its key
// has been revoked (ErrKeyRevoked), or the API token or session its sender signed in
// with has gone (ErrUnauthenticated), on this node or another, since they were read.
// Revoked keys are forgotten; the journal's number, if read, is recalled.
func (s *Store) fallen(ctx context.Context, tx *sqlx.Tx, batch []*pendingBallot) (map[*pendingBallot]error, error) {
	seqs, err := s.journalSeqsOf(ctx, tx, batch)
	if err != nil {
		return nil, err
	}
	revoked, err := present(ctx, tx, `SELECT id FROM voting_keys WHERE id IN (?) AND revoked_at IS NOT NULL`, batchKeys(batch))
	if err != nil {
		return nil, err
	}
	for id := range revoked {
		s.keys.forget(voting.KeyID(id))
	}
	tokens, sessions := batchCredentials(batch)
	tokenThere, err := present(ctx, tx, `SELECT id FROM api_tokens WHERE id IN (?)`, tokens)
	if err != nil {
		return nil, err
	}
	sessionThere, err := present(ctx, tx, `SELECT id FROM sessions WHERE id IN (?)`, sessions)
	if err != nil {
		return nil, err
	}
	out := map[*pendingBallot]error{}
	for _, p := range batch {
		c := p.in.Credential
		switch {
		case p.in.Seq != 0 && seqs[p.in.Ballot.Meeting] != p.in.Seq:
			out[p] = fmt.Errorf("submit ballot: checked at journal entry %d of meeting %d, which has %d: %w",
				p.in.Seq, p.in.Ballot.Meeting, seqs[p.in.Ballot.Meeting], voting.ErrStale)
		case revoked[string(p.in.Key)]:
			out[p] = fmt.Errorf("submit ballot: key %s: %w", p.in.Key, voting.ErrKeyRevoked)
		case c.Token != 0 && !tokenThere[c.Token] || c.Session != "" && !sessionThere[c.Session]:
			out[p] = fmt.Errorf("submit ballot: the sender's sign-in has ended: %w", voting.ErrUnauthenticated)
		}
	}
	return out, nil
}

// journalSeqsOf reads, as tx sees them, the journal numbers of the meetings of those
// ballots of a batch that were checked against a recalled one, and recalls them: tx
// must not have written to a journal itself, so that what it reads has committed.
func (s *Store) journalSeqsOf(ctx context.Context, tx *sqlx.Tx, batch []*pendingBallot) (map[int64]int64, error) {
	var meetings []int64
	for _, p := range batch {
		if p.in.Seq != 0 && !slices.Contains(meetings, p.in.Ballot.Meeting) {
			meetings = append(meetings, p.in.Ballot.Meeting)
		}
	}
	if len(meetings) == 0 {
		return map[int64]int64{}, nil
	}
	q, args, err := sqlx.In(meetingSeqsQuery, meetings)
	if err != nil {
		return nil, err
	}
	var rows []meetingSeq
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("submit ballots: %w", err)
	}
	return s.recallSeqs(rows), nil
}

// present runs query, which selects those of ids that are there, and returns them as
// a set.
func present[T int64 | string](ctx context.Context, tx *sqlx.Tx, query string, ids []T) (map[T]bool, error) {
	there := make(map[T]bool, len(ids))
	if len(ids) == 0 {
		return there, nil
	}
	q, args, err := sqlx.In(query, ids)
	if err != nil {
		return nil, err
	}
	var found []T
	if err := tx.SelectContext(ctx, &found, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("submit ballots: %w", err)
	}
	for _, id := range found {
		there[id] = true
	}
	return there, nil
}

// pollState is what a batch needs to know of a poll: whether it has closed, and the
// hands counted in the room with the eligible voters (JSON) they are counted among.
type pollState struct {
	closed   bool
	hands    int
	eligible string
}

// pollsClosed says, for each poll the batch's ballots name, whether it has closed
// and how many hands were counted in it. Polls that are not the meeting's are missing.
func (s *Store) pollsClosed(ctx context.Context, tx *sqlx.Tx, meeting int64, batch []*pendingBallot) (map[int64]pollState, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, p := range batch {
		if !seen[p.in.Ballot.Poll] {
			seen[p.in.Ballot.Poll] = true
			ids = append(ids, p.in.Ballot.Poll)
		}
	}
	q, args, err := sqlx.In(`SELECT id, closed_at, room_hands,
		CASE WHEN room_hands > 0 THEN eligible ELSE '' END AS eligible
		FROM polls WHERE meeting_id = ? AND id IN (?)`, meeting, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID       int64        `db:"id"`
		ClosedAt sql.NullTime `db:"closed_at"`
		Hands    int          `db:"room_hands"`
		Eligible string       `db:"eligible"`
	}
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("submit ballots: %w", err)
	}
	out := make(map[int64]pollState, len(rows))
	for _, r := range rows {
		out[r.ID] = pollState{closed: r.ClosedAt.Valid, hands: r.Hands, eligible: r.Eligible}
	}
	return out, nil
}

// usedNonces returns the (poll, voter, nonce) triples that stored ballots of the
// batch's voters in its polls have used, as "poll/voter/nonce", and the hashes of the
// batch's ballots that are among them (sent again).
func (s *Store) usedNonces(ctx context.Context, tx *sqlx.Tx, batch []*pendingBallot) (map[string]bool, []string, error) {
	polls, voters := map[int64]bool{}, map[int64]bool{}
	var pollIDs, voterIDs []int64
	for _, p := range batch {
		if b := p.in.Ballot; !polls[b.Poll] {
			polls[b.Poll] = true
			pollIDs = append(pollIDs, b.Poll)
		}
		if b := p.in.Ballot; !voters[b.Voter] {
			voters[b.Voter] = true
			voterIDs = append(voterIDs, b.Voter)
		}
	}
	q, args, err := sqlx.In(`SELECT poll_id, voter_id, nonce, hash FROM ballots WHERE poll_id IN (?) AND voter_id IN (?)`, pollIDs, voterIDs)
	if err != nil {
		return nil, nil, err
	}
	var rows []struct {
		Poll  int64  `db:"poll_id"`
		Voter int64  `db:"voter_id"`
		Nonce string `db:"nonce"`
		Hash  string `db:"hash"`
	}
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
		return nil, nil, fmt.Errorf("submit ballots: %w", err)
	}
	hashes := make(map[string]bool, len(batch))
	for _, p := range batch {
		hashes[p.hash] = true
	}
	out := make(map[string]bool, len(rows))
	var again []string
	for _, r := range rows {
		out[nonceKey(r.Poll, r.Voter, r.Nonce)] = true
		if hashes[r.Hash] {
			again = append(again, r.Hash)
		}
	}
	return out, again, nil
}

// ballotColumns are the columns a ballot is stored in.
const ballotColumns = `poll_id, meeting_id, voter_id, recorder_id, proxy_id, casting, choice, nonce, hash,
	ballot, signature, key_id, cast_at, received_at, log_index, receipt_size`

// insertBallots stores the accepted ballots of a batch, the k-th at log index
// first+k, each with its receipt against the log of size leaves, and returns their
// ids in that order.
func (s *Store) insertBallots(ctx context.Context, tx *sqlx.Tx, batch []*pendingBallot, accept []int, first, size int64) ([]int64, error) {
	var query string
	var args []any
	if s.db.Dialect == migrations.Postgres {
		query = `INSERT INTO ballots (` + ballotColumns + `) SELECT *, $16::bigint FROM ` + ballotsUnnest + ` RETURNING id, log_index`
		args = append(ballotArrays(batch, accept, first), size)
	} else {
		var sb strings.Builder
		args = make([]any, 0, 16*len(accept))
		sb.WriteString(`INSERT INTO ballots (` + ballotColumns + `) VALUES `)
		for k, i := range accept {
			if k > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			p := batch[i]
			b := p.in.Ballot
			args = append(args, b.Poll, b.Meeting, b.Voter, nullID(b.Recorder), nullID(b.Proxy), b.Casting, b.Choice, p.nonce, p.hash,
				b64.EncodeToString(p.in.Signed.Bytes), b64.EncodeToString(p.in.Signed.Signature), string(p.in.Key),
				b.CastAt.UTC(), p.in.ReceivedAt.UTC(), first+int64(k), size)
		}
		sb.WriteString(" RETURNING id, log_index")
		query = tx.Rebind(sb.String())
	}
	var rows []struct {
		ID    int64 `db:"id"`
		Index int64 `db:"log_index"`
	}
	if err := tx.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("submit ballots: %w", err)
	}
	if len(rows) != len(accept) {
		return nil, fmt.Errorf("submit ballots: %d stored of %d", len(rows), len(accept))
	}
	ids := make([]int64, len(accept))
	for _, r := range rows {
		k := r.Index - first
		if k < 0 || k >= int64(len(ids)) {
			return nil, fmt.Errorf("submit ballots: stored at log index %d, outside the batch", r.Index)
		}
		ids[k] = r.ID
	}
	return ids, nil
}

// ballotsUnnest turns the arrays of ballotArrays, parameters $1 to $15, into rows of
// the ballots table's columns, but for receipt_size.
const ballotsUnnest = `unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
	$6::boolean[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
	$13::timestamptz[], $14::timestamptz[], $15::bigint[])`

// ballotArrays returns the accepted ballots of a batch, the k-th at log index first+k,
// as one array a column, for ballotsUnnest: a statement of the same small size however
// many ballots, which PostgreSQL parses and plans in no time.
func ballotArrays(batch []*pendingBallot, accept []int, first int64) []any {
	n := len(accept)
	polls, meetings, voters, indexes := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	recorders, proxies := make([]sql.NullInt64, n), make([]sql.NullInt64, n)
	casting := make([]bool, n)
	var text [8][]string // choice, nonce, hash, ballot, signature, key, cast at, received at
	for i := range text {
		text[i] = make([]string, n)
	}
	for k, i := range accept {
		p := batch[i]
		b := p.in.Ballot
		polls[k], meetings[k], voters[k], indexes[k] = b.Poll, b.Meeting, b.Voter, first+int64(k)
		recorders[k], proxies[k], casting[k] = nullID(b.Recorder), nullID(b.Proxy), b.Casting
		for c, v := range []string{b.Choice, p.nonce, p.hash, b64.EncodeToString(p.in.Signed.Bytes),
			b64.EncodeToString(p.in.Signed.Signature), string(p.in.Key),
			b.CastAt.UTC().Format(pgTime), p.in.ReceivedAt.UTC().Format(pgTime)} {
			text[c][k] = v
		}
	}
	return []any{pq.Array(polls), pq.Array(meetings), pq.Array(voters), pq.Array(recorders), pq.Array(proxies),
		pq.Array(casting), textArray(text[0]), textArray(text[1]), textArray(text[2]), textArray(text[3]),
		textArray(text[4]), textArray(text[5]), textArray(text[6]), textArray(text[7]), pq.Array(indexes)}
}

// pgTime is how times go into PostgreSQL arrays: to the microsecond, with the zone.
const pgTime = "2006-01-02 15:04:05.999999Z07:00"
