package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/chamber/chamber/voting"
)

// Shows of hands counted in the room: each is a log entry and a row of room_counts,
// and the last of a poll is kept on the poll (room_count, room_hands), so that every
// read of the poll has it.

type countRow struct {
	ID         int64     `db:"id"`
	Count      string    `db:"count"`
	Signature  string    `db:"signature"`
	PublicKey  string    `db:"public_key"`
	KeyID      string    `db:"key_id"`
	LogIndex   int64     `db:"log_index"`
	ReceivedAt time.Time `db:"received_at"`
}

const countSelect = `SELECT c.id, c.count, c.signature, k.public_key, c.key_id, c.log_index, c.received_at
	FROM room_counts c JOIN voting_keys k ON k.id = c.key_id`

func (r countRow) stored() (voting.StoredCount, error) {
	var sc voting.SignedCount
	var err error
	if sc.Bytes, err = b64.DecodeString(r.Count); err != nil {
		return voting.StoredCount{}, fmt.Errorf("count %d: %w", r.ID, err)
	}
	if sc.Signature, err = b64.DecodeString(r.Signature); err != nil {
		return voting.StoredCount{}, fmt.Errorf("count %d: %w", r.ID, err)
	}
	if sc.PublicKey, err = b64.DecodeString(r.PublicKey); err != nil {
		return voting.StoredCount{}, fmt.Errorf("count %d: %w", r.ID, err)
	}
	c, err := voting.ParseCount(sc.Bytes)
	if err != nil {
		return voting.StoredCount{}, fmt.Errorf("count %d: %w", r.ID, err)
	}
	return voting.StoredCount{ID: r.ID, Signed: sc, Count: c, Key: voting.KeyID(r.KeyID), Index: r.LogIndex, ReceivedAt: r.ReceivedAt.UTC()}, nil
}

// SubmitCount implements voting.Store.
func (s *Store) SubmitCount(ctx context.Context, in voting.CountSubmission) (voting.StoredCount, bool, error) {
	c := in.Count
	leaf, err := voting.EncodeCountEntry(in.Signed)
	if err != nil {
		return voting.StoredCount{}, false, err
	}
	hash := in.Signed.Hash()
	hashHex := hex.EncodeToString(hash[:])
	summary, err := json.Marshal(c)
	if err != nil {
		return voting.StoredCount{}, false, fmt.Errorf("submit count: %w", err)
	}
	var out voting.StoredCount
	var dup bool
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		log, err := s.lockLog(ctx, tx, c.Meeting, "")
		if err != nil {
			return err
		}
		var r countRow
		err = tx.GetContext(ctx, &r, tx.Rebind(countSelect+` WHERE c.hash = ?`), hashHex)
		if err == nil {
			dup = true
			out, err = r.stored()
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("submit count: %w", err)
		}
		var closed sql.NullTime
		err = tx.GetContext(ctx, &closed, tx.Rebind(`SELECT closed_at FROM polls WHERE id = ? AND meeting_id = ?`), c.Poll, c.Meeting)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("submit count: poll %d: %w", c.Poll, voting.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("submit count: %w", err)
		}
		if closed.Valid {
			return fmt.Errorf("submit count: poll %d: %w", c.Poll, voting.ErrPollClosed)
		}
		nonce := hex.EncodeToString(c.Nonce[:])
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM room_counts WHERE poll_id = ? AND recorder_id = ? AND nonce = ?`),
			c.Poll, c.Recorder, nonce); err != nil {
			return fmt.Errorf("submit count: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("submit count by user %d in poll %d: %w", c.Recorder, c.Poll, voting.ErrReplay)
		}
		voters, err := ballotVoters(ctx, tx, c.Poll)
		if err != nil {
			return err
		}
		may := 0
		for _, id := range in.MayVote {
			if !voters[id] {
				may++
			}
		}
		if c.Total() > may {
			return fmt.Errorf("submit count: %d hands, and %d members present may vote who have not voted by ballot: %w",
				c.Total(), may, voting.ErrOverCount)
		}
		index, err := log.Append(ctx, leaf)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO room_counts (poll_id, meeting_id, recorder_id, nonce, hash,
			count, signature, key_id, counted_at, received_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			c.Poll, c.Meeting, c.Recorder, nonce, hashHex, b64.EncodeToString(in.Signed.Bytes),
			b64.EncodeToString(in.Signed.Signature), string(in.Key), c.CountedAt.UTC(), in.ReceivedAt.UTC(), index); err != nil {
			return fmt.Errorf("submit count: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE polls SET room_count = ?, room_hands = ? WHERE id = ?`),
			string(summary), c.Total(), c.Poll); err != nil {
			return fmt.Errorf("submit count: %w", err)
		}
		out = voting.StoredCount{ID: id, Signed: in.Signed, Count: c, Key: in.Key, Index: index, ReceivedAt: in.ReceivedAt.UTC()}
		return nil
	})
	if err != nil {
		return voting.StoredCount{}, false, err
	}
	return out, dup, nil
}

// ballotVoters returns the members who have voted by ballot in a poll (casting votes
// aside).
func ballotVoters(ctx context.Context, q sqlx.ExtContext, poll int64) (map[int64]bool, error) {
	var ids []int64
	if err := sqlx.SelectContext(ctx, q, &ids, q.Rebind(`SELECT DISTINCT voter_id FROM ballots WHERE poll_id = ? AND casting = ?`), poll, false); err != nil {
		return nil, fmt.Errorf("voters of poll %d: %w", poll, err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// roomLimit is what a count of hands leaves to ballots in a poll: the hands counted,
// the members who have voted by ballot, and how many may vote in all.
type roomLimit struct {
	hands    int
	voters   map[int64]bool
	eligible int
}

// admits reports whether a ballot of voter fits beside the count, and notes the voter.
func (l *roomLimit) admits(voter int64) bool {
	if l == nil || l.voters[voter] {
		return true
	}
	if l.hands+len(l.voters)+1 > l.eligible {
		return false
	}
	l.voters[voter] = true
	return true
}

// roomLimitOf reads what a count of hands leaves to ballots in a poll with hands
// counted and the eligible list (JSON) given; nil if there is no count.
func roomLimitOf(ctx context.Context, q sqlx.ExtContext, poll int64, hands int, eligible string) (*roomLimit, error) {
	if hands == 0 {
		return nil, nil
	}
	var ids []int64
	if err := json.Unmarshal([]byte(eligible), &ids); err != nil {
		return nil, fmt.Errorf("poll %d: eligible voters: %w", poll, err)
	}
	voters, err := ballotVoters(ctx, q, poll)
	if err != nil {
		return nil, err
	}
	return &roomLimit{hands: hands, voters: voters, eligible: len(ids)}, nil
}

// CountByHash implements voting.Store.
func (s *Store) CountByHash(ctx context.Context, hash [32]byte) (voting.StoredCount, error) {
	var r countRow
	err := s.db.Reader.GetContext(ctx, &r, s.db.Reader.Rebind(countSelect+` WHERE c.hash = ?`), hex.EncodeToString(hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return voting.StoredCount{}, fmt.Errorf("count %x: %w", hash[:8], voting.ErrNotFound)
	}
	if err != nil {
		return voting.StoredCount{}, fmt.Errorf("count %x: %w", hash[:8], err)
	}
	return r.stored()
}

// Counts implements voting.Store.
func (s *Store) Counts(ctx context.Context, poll int64) ([]voting.StoredCount, error) {
	var rows []countRow
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Reader.Rebind(countSelect+` WHERE c.poll_id = ? ORDER BY c.log_index`), poll); err != nil {
		return nil, fmt.Errorf("counts of poll %d: %w", poll, err)
	}
	out := make([]voting.StoredCount, 0, len(rows))
	for _, r := range rows {
		sc, err := r.stored()
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}
