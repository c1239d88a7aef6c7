package voting

import (
	"context"
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
)

// Every ballot is checked against the roll as it stands when it arrives (is the voter
// still present, with no interest declared since?), and a roll is a dozen queries that
// read the whole committee and its attendance. In a burst every voter of a meeting
// would read the same roll at once. But what a ballot is checked against changes only
// with the meeting's journal: attendance, apologies, substitutions, declarations, the
// current item, and polls opening, closing and being decided are all journaled, each
// moving the journal's sequence number. So a ballot reads that number (one query) and
// the roll and poll are read again only when it has moved; readers that arrive while
// one is being read wait for it. Committee membership and rules, which change outside
// the meeting's journal (and never in the middle of a vote in practice), are read
// again once the roll is rollMaxAge old, in the background, while ballots go on being
// checked against the roll in hand.
//
// Who may vote is decided from the roll at an instant; the decisions hold until the
// next instant at which someone's attendance starts or ends, so they too are worked
// out once, not once per ballot.

// rollMaxAge is the longest a roll read is used for, whatever the journal says.
const rollMaxAge = 2 * time.Second

// rollLoadTimeout bounds reading a roll that several ballots wait for.
const rollLoadTimeout = 10 * time.Second

type rollKey struct{ meeting, item int64 }

// rollSnap is a roll as read after the journal reached seq.
type rollSnap struct {
	seq    int64
	readAt time.Time // by the process's own clock
	roll   agenda.Roll

	mu     sync.Mutex           // guards voters
	voters map[int64]*voterRoll // by poll
}

// voterRoll is who may vote in one poll from instant at until (not including) until.
type voterRoll struct {
	at, until time.Time
	members   map[int64]Member
	decisions map[int64]Decision
}

// pollSnap is a poll as read after its meeting's journal reached seq.
type pollSnap struct {
	seq    int64
	readAt time.Time
	poll   Poll
}

// rollCache holds the latest roll of each meeting's items, and its polls.
type rollCache struct {
	mu      sync.Mutex // guards rolls, loading, polls
	rolls   map[rollKey]*rollSnap
	loading map[rollKey]*rollLoad
	polls   map[int64]pollSnap // by poll
}

// rollLoad is a roll being read, for others who need it to wait for.
type rollLoad struct {
	done chan struct{}
	snap *rollSnap
	err  error
}

// maxCachedRolls bounds the rolls and polls kept; beyond it, old ones are dropped.
const maxCachedRolls = 256

func newRollCache() *rollCache {
	return &rollCache{rolls: map[rollKey]*rollSnap{}, loading: map[rollKey]*rollLoad{}, polls: map[int64]pollSnap{}}
}

// fresh reports whether something read after the journal reached seq, at readAt, is
// still the current state at journal sequence number now.
func fresh(seq, now int64, readAt time.Time) bool {
	return seq == now && time.Since(readAt) < rollMaxAge
}

// roll returns the roll of a meeting's item as it is at journal sequence number seq
// (which the caller read just now). A roll that is current but older than rollMaxAge
// is still used while it is read again in the background.
func (c *rollCache) roll(ctx context.Context, rr RollReader, meeting, item, seq int64) (*rollSnap, error) {
	k := rollKey{meeting, item}
	c.mu.Lock()
	if snap := c.rolls[k]; snap != nil && snap.seq == seq {
		if time.Since(snap.readAt) >= rollMaxAge && c.loading[k] == nil {
			l := &rollLoad{done: make(chan struct{})}
			c.loading[k] = l
			go c.load(context.Background(), rr, k, seq, l)
		}
		c.mu.Unlock()
		return snap, nil
	}
	if l := c.loading[k]; l != nil {
		c.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.err == nil && l.snap.seq >= seq {
			return l.snap, nil
		}
		return c.read(ctx, rr, k, seq)
	}
	l := &rollLoad{done: make(chan struct{})}
	c.loading[k] = l
	c.mu.Unlock()
	// Read for everyone waiting, whatever becomes of the request that started it.
	c.load(context.WithoutCancel(ctx), rr, k, seq, l)
	return l.snap, l.err
}

// load reads a roll for those waiting on l.
func (c *rollCache) load(ctx context.Context, rr RollReader, k rollKey, seq int64, l *rollLoad) {
	ctx, cancel := context.WithTimeout(ctx, rollLoadTimeout)
	defer cancel()
	l.snap, l.err = c.read(ctx, rr, k, seq)
	c.mu.Lock()
	delete(c.loading, k)
	c.mu.Unlock()
	close(l.done)
}

// read reads a roll and keeps it, unless a newer one is kept already.
func (c *rollCache) read(ctx context.Context, rr RollReader, k rollKey, seq int64) (*rollSnap, error) {
	readAt := time.Now()
	r, err := rr.Roll(ctx, k.meeting, k.item)
	if err != nil {
		return nil, fromAgenda(err)
	}
	return c.keep(k, seq, readAt, r), nil
}

// keep keeps a roll read at readAt as the roll at journal sequence number seq, unless
// a newer one is kept already, and returns its snapshot.
func (c *rollCache) keep(k rollKey, seq int64, readAt time.Time, r agenda.Roll) *rollSnap {
	snap := &rollSnap{seq: seq, readAt: readAt, roll: r, voters: map[int64]*voterRoll{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rolls) >= maxCachedRolls {
		for key, old := range c.rolls {
			if time.Since(old.readAt) >= rollMaxAge {
				delete(c.rolls, key)
			}
		}
	}
	if old := c.rolls[k]; old == nil || old.seq <= seq {
		c.rolls[k] = snap
	}
	return snap
}

// poll returns a poll kept as it was at journal sequence number seq.
func (c *rollCache) poll(id, seq int64) (Poll, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.polls[id]
	if !ok || !fresh(ps.seq, seq, ps.readAt) {
		return Poll{}, false
	}
	return ps.poll, true
}

// keepPoll keeps a poll read after its meeting's journal reached seq, at readAt.
func (c *rollCache) keepPoll(p Poll, seq int64, readAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.polls) >= maxCachedRolls {
		for id, old := range c.polls {
			if time.Since(old.readAt) >= rollMaxAge {
				delete(c.polls, id)
			}
		}
	}
	if old, ok := c.polls[p.ID]; !ok || old.seq <= seq {
		c.polls[p.ID] = pollSnap{seq: seq, readAt: readAt, poll: p}
	}
}

// votersAt returns who may vote in poll p at instant now, by the snapshot's roll.
func (snap *rollSnap) votersAt(p *Poll, now time.Time) *voterRoll {
	snap.mu.Lock()
	defer snap.mu.Unlock()
	if v := snap.voters[p.ID]; v != nil && !now.Before(v.at) && now.Before(v.until) {
		return v
	}
	r := snap.roll
	members := MembersAt(r, now, overridesOf(p.Overrides))
	rc := Roll(RulesOf(r.Committee.Profile), ItemOf(r.Item), members)
	v := &voterRoll{at: now, until: nextChange(r, now),
		members: make(map[int64]Member, len(members)), decisions: make(map[int64]Decision, len(members))}
	for i, m := range members {
		v.members[m.User] = m
		v.decisions[m.User] = rc.Decisions[i]
	}
	snap.voters[p.ID] = v
	return v
}

// nextChange returns the first instant after at when someone's attendance starts or
// ends, or the item starts or ends, by the roll: until then, who may vote stays as it
// is at at.
func nextChange(r agenda.Roll, at time.Time) time.Time {
	next := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	consider := func(t *time.Time) {
		if t != nil && t.After(at) && t.Before(next) {
			next = *t
		}
	}
	for i := range r.Attendance {
		a := &r.Attendance[i]
		consider(&a.ArrivedAt)
		consider(a.LeftAt)
	}
	consider(r.Item.StartedAt)
	consider(r.Item.EndedAt)
	return next
}
