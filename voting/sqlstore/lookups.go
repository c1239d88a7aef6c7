package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
)

// Every ballot is checked against its signer's key and against the roll as it stands
// at its meeting's journal sequence number, read afresh unless it is recalled
// (seqs.go). When everyone votes at once
// those reads arrive together, so they are coalesced (migrations.Coalescer): the
// ballots that arrive while one read runs share the next, one statement for the
// meetings and one for the keys, however many ballots there are.
//
// A key that was approved and not revoked when it was read is kept (keyCache) and not
// read again. Such a key changes only by being revoked, on this node or another, and
// every ballot is checked against its key's revocation as it commits: a ballot under a
// key revoked since it was read is refused then (ErrKeyRevoked).

// maxLookups bounds the keys or meetings one read asks for.
const maxLookups = 500

// refAsk is one ballot's lookup: its meeting's journal and the key that signed it.
type refAsk struct {
	meeting int64
	key     voting.KeyID
}

// refs is what a refAsk finds: the journal's sequence number and, if it is enrolled,
// the key.
type refs struct {
	seq   int64
	key   voting.Key
	keyOK bool
}

// lookups are the store's coalesced reads.
type lookups struct {
	refs  *migrations.Coalescer[refAsk, refs]
	keys  *migrations.Coalescer[voting.KeyID, voting.Key]
	polls *migrations.Coalescer[int64, polled]
}

// polled is a poll read, or why it could not be made sense of.
type polled struct {
	poll voting.Poll
	err  error
}

func newLookups(s *Store) *lookups {
	return &lookups{
		refs:  migrations.NewCoalescer(maxLookups, s.readRefs),
		keys:  migrations.NewCoalescer(maxLookups, s.readKeys),
		polls: migrations.NewCoalescer(maxLookups, s.readPolls),
	}
}

// JournalSeqAndKey implements voting.Store.
func (s *Store) JournalSeqAndKey(ctx context.Context, meeting int64, id voting.KeyID) (int64, voting.Key, bool, error) {
	r, err := s.lookups.refs.Find(ctx, refAsk{meeting: meeting, key: id}, voting.ErrNotFound)
	if err != nil {
		return 0, voting.Key{}, false, fmt.Errorf("meeting %d, key %s: %w", meeting, id, err)
	}
	return r.seq, r.key, r.keyOK, nil
}

// Key implements voting.Store.
func (s *Store) Key(ctx context.Context, id voting.KeyID) (voting.Key, error) {
	k, err := s.lookups.keys.Find(ctx, id, voting.ErrNotFound)
	if err != nil {
		return voting.Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	return k, nil
}

// Poll implements voting.Store. The first ballots of a poll that has just opened all
// ask for it at once.
func (s *Store) Poll(ctx context.Context, id int64) (voting.Poll, error) {
	p, err := s.lookups.polls.Find(ctx, id, voting.ErrNotFound)
	if err != nil {
		return voting.Poll{}, fmt.Errorf("poll %d: %w", id, err)
	}
	return p.poll, p.err
}

func (s *Store) readPolls(ctx context.Context, ids []int64) (map[int64]polled, error) {
	var rows []pollRow
	if err := migrations.SelectIn(ctx, s.db, &rows, pollSelect+` WHERE p.id IN (?)`, ids); err != nil {
		return nil, fmt.Errorf("read polls: %w", err)
	}
	out := make(map[int64]polled, len(rows))
	for _, r := range rows {
		p, err := r.poll()
		out[r.ID] = polled{poll: p, err: err}
	}
	return out, nil
}

func (s *Store) readRefs(ctx context.Context, asks []refAsk) (map[refAsk]refs, error) {
	seen := map[int64]bool{}
	var meetings []int64
	ids := make([]voting.KeyID, 0, len(asks))
	for _, a := range asks {
		if !seen[a.meeting] {
			seen[a.meeting] = true
			meetings = append(meetings, a.meeting)
		}
		ids = append(ids, a.key)
	}
	var rows []meetingSeq
	if err := migrations.SelectIn(ctx, s.db, &rows, meetingSeqsQuery, meetings); err != nil {
		return nil, fmt.Errorf("read journals: %w", err)
	}
	keys := make(map[voting.KeyID]voting.Key, len(ids))
	var missing []voting.KeyID
	for _, id := range ids {
		if k, ok := s.keys.get(id); ok {
			keys[id] = k
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		read, err := s.readKeys(ctx, missing)
		if err != nil {
			return nil, err
		}
		for id, k := range read {
			keys[id] = k
			s.keys.keep(k)
		}
	}
	seqs := s.recallSeqs(rows)
	out := make(map[refAsk]refs, len(asks))
	for _, a := range asks {
		seq, ok := seqs[a.meeting]
		if !ok {
			continue
		}
		k, ok := keys[a.key]
		out[a] = refs{seq: seq, key: k, keyOK: ok}
	}
	return out, nil
}

func (s *Store) readKeys(ctx context.Context, ids []voting.KeyID) (map[voting.KeyID]voting.Key, error) {
	text := make([]string, len(ids))
	for i, id := range ids {
		text[i] = string(id)
	}
	var rows []keyRow
	if err := migrations.SelectIn(ctx, s.db, &rows, `SELECT `+keyColumns+` FROM voting_keys WHERE id IN (?)`, text); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	out := make(map[voting.KeyID]voting.Key, len(rows))
	for _, r := range rows {
		k, err := r.key()
		if err != nil {
			return nil, err
		}
		out[k.ID] = k
	}
	return out, nil
}

// maxKeysKept bounds the keys a store keeps: a council's members' devices, many
// times over. Past it, the keys kept are dropped and read again as they are used.
const maxKeysKept = 20000

// keyCache keeps the keys that were approved and not revoked when read (see above).
type keyCache struct {
	mu   sync.Mutex
	keys map[voting.KeyID]voting.Key
}

func newKeyCache() *keyCache { return &keyCache{keys: map[voting.KeyID]voting.Key{}} }

func (c *keyCache) get(id voting.KeyID) (voting.Key, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[id]
	return k, ok
}

// keep keeps k if it is approved and not revoked.
func (c *keyCache) keep(k voting.Key) {
	if k.ApprovedAt.IsZero() || !k.RevokedAt.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= maxKeysKept {
		clear(c.keys)
	}
	c.keys[k.ID] = k
}

func (c *keyCache) forget(id voting.KeyID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, id)
}
