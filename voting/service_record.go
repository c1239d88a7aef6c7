package voting

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/chamber/chamber/agenda"
)

// Checkpoint signs the meeting's log as it is now, keeps the signed checkpoint as the
// latest published, and returns it (a C2SP signed note). Checkpoints say how many
// entries the log has and their root hash, nothing else, so anyone may have them.
func (s *Service) Checkpoint(ctx context.Context, meetingID int64) ([]byte, error) {
	log, err := s.meetingLog(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	head, err := log.Head(ctx)
	if err != nil {
		return nil, err
	}
	if head.Size == 0 {
		return nil, fmt.Errorf("log of meeting %d: no votes: %w", meetingID, ErrNotFound)
	}
	vkey, err := s.key.VerifierKey(log.Origin())
	if err != nil {
		return nil, err
	}
	if latest, err := s.store.LatestCheckpoint(ctx, meetingID); err == nil {
		if cp, err := OpenCheckpoint(latest, vkey); err == nil && cp == head {
			return latest, nil // kept already
		}
	}
	signed, err := s.key.Sign(head)
	if err != nil {
		return nil, err
	}
	if err := s.store.SaveCheckpoint(ctx, meetingID, head.Size, signed, s.clock()); err != nil {
		return nil, err
	}
	return signed, nil
}

// VerifierKey returns the note verifier key that checks a meeting's checkpoints:
// derived from the server's log key and the meeting's log name.
func (s *Service) VerifierKey(ctx context.Context, meetingID int64) (string, error) {
	origin, err := s.Origin(ctx, meetingID)
	if err != nil {
		return "", err
	}
	return s.key.VerifierKey(origin)
}

// ServerKey returns the public half of the server's log key, which the council
// publishes; every meeting's verifier key derives from it.
func (s *Service) ServerKey() string { return EncodePublicKey(s.key.Public()) }

// ConsistencyProof proves that the meeting's log at size to extends the log at size
// from, so that a voter can check that a later checkpoint (the published record's)
// extends the one in their receipt.
func (s *Service) ConsistencyProof(ctx context.Context, meetingID, from, to int64) (tlog.TreeProof, error) {
	log, err := s.meetingLog(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	return log.ConsistencyProof(ctx, from, to)
}

// InclusionProof proves that entry index is in the meeting's log at size.
func (s *Service) InclusionProof(ctx context.Context, meetingID, index, size int64) (tlog.RecordProof, error) {
	log, err := s.meetingLog(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	return log.InclusionProof(ctx, index, size)
}

// Record builds the meeting's vote record as of its log now, for `chamber verify` and
// for publication. Every entry of the log is in it, so that it verifies whole; what it
// discloses depends on who asks:
//
//   - Polls in public session are public, ballots included. A ballot names its voter
//     and cannot be checked without them, so a vote that was not recorded by name is
//     still, in the record, a signed ballot of a known member: the difference between
//     a recorded vote and another is what the minutes print, not what the record
//     holds. (In the room, a show of hands is public too.)
//   - Polls on exempt business (Schedule 12A) are withheld from those who may not
//     read private business: each of their log entries is in the record by its leaf
//     hash only (RecordWithheld), naming the item and poll, so the public can check
//     that the log is whole and that nothing was changed in it, but not how anyone
//     voted, the question, the counts or the result. Members of the committee and the
//     council's staff get the full record.
//   - Members are named: the committee and anyone who voted, recorded or presided.
//
// A meeting with no polls has no record (ErrNotFound).
func (s *Service) Record(ctx context.Context, actor agenda.Actor, meetingID int64) (*Record, error) {
	polls, err := s.store.MeetingPolls(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	if len(polls) == 0 {
		return nil, fmt.Errorf("record of meeting %d: no polls: %w", meetingID, ErrNotFound)
	}
	rolls := map[int64]agenda.Roll{}
	var items []int64
	for _, p := range polls {
		if _, ok := rolls[p.Item]; ok {
			continue
		}
		r, err := s.roll.Roll(ctx, meetingID, p.Item)
		if err != nil {
			return nil, fromAgenda(err)
		}
		rolls[p.Item] = r
		items = append(items, p.Item)
	}
	first := rolls[polls[0].Item]
	m := first.Meeting
	if !visible(actor, m) {
		return nil, fmt.Errorf("meeting %d: %w", meetingID, ErrNotFound)
	}
	full := actor.CanReadPrivate(m.CouncilID, m.CommitteeID)

	signed, err := s.Checkpoint(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	log, err := s.meetingLog(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	vkey, err := s.key.VerifierKey(log.Origin())
	if err != nil {
		return nil, err
	}
	keys, err := s.signingKeys(ctx, polls)
	if err != nil {
		return nil, err
	}
	in := RecordInput{
		Meeting:     RecordMeeting{ID: m.ID, Title: m.Title, Committee: first.Committee.Name, StartsAt: m.StartsAt},
		Keys:        keys,
		Log:         log,
		Checkpoint:  signed,
		VerifierKey: vkey,
	}
	for _, id := range items {
		it := rolls[id].Item
		in.Items = append(in.Items, RecordItem{ID: it.ID, Number: it.Number, Title: it.Title})
	}
	rec, err := BuildRecord(ctx, in)
	if err != nil {
		return nil, err
	}
	if !full {
		err := rec.Withhold(func(rp *RecordPoll) bool { return private(rolls[rp.Opening.Item]) })
		if err != nil {
			return nil, err
		}
	}
	rec.Members = members(rec, first)
	for i := range rec.Members {
		if mem := &rec.Members[i]; mem.Name == "" && s.people != nil {
			if a, err := s.people.Actor(ctx, mem.User); err == nil {
				mem.Name = a.Name
			}
		}
	}
	return rec, nil
}

// signingKeys returns every key that signed a ballot in the polls.
func (s *Service) signingKeys(ctx context.Context, polls []Poll) ([]Key, error) {
	seen := map[KeyID]bool{}
	var keys []Key
	for _, p := range polls {
		ballots, err := s.store.Ballots(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		ids := make([]KeyID, 0, len(ballots))
		for _, b := range ballots {
			ids = append(ids, b.Key)
		}
		counts, err := s.store.Counts(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			ids = append(ids, c.Key)
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			k, err := s.store.Key(ctx, id)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// members names the committee and everyone the record's polls name, by user id.
func members(rec *Record, r agenda.Roll) []RecordMember {
	users := map[int64]bool{}
	for _, ms := range r.Members {
		users[ms.UserID] = true
	}
	for _, rp := range rec.Polls {
		for _, id := range []int64{rp.Opening.OpenedBy, rp.Opening.Presiding} {
			users[id] = true
		}
		for _, id := range rp.Opening.Eligible {
			users[id] = true
		}
		for _, b := range rp.Ballots {
			users[b.Voter], users[b.Recorder], users[b.Proxy] = true, true, true
		}
		for _, c := range rp.Counts {
			users[c.Recorder] = true
		}
		if d := rp.Declined; d != nil {
			users[d.DeclaredBy] = true
		}
	}
	delete(users, 0)
	roles := make(map[int64]agenda.CommitteeRole, len(r.Members))
	for _, ms := range r.Members {
		roles[ms.UserID] = ms.Role
	}
	out := []RecordMember{}
	for id := range users {
		out = append(out, RecordMember{User: id, Name: r.People[id], Role: string(roles[id])})
	}
	slices.SortFunc(out, func(a, b RecordMember) int { return cmp.Compare(a.User, b.User) })
	return out
}
