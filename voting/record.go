package voting

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// RecordVersion is the version of the record format that this package writes and
// reads.
const RecordVersion = 1

// A Record is a meeting's published vote record: everything needed to check, offline
// and without trusting the server, that every vote was signed by its voter's key, is
// in the meeting's log, was counted, and that each result follows from the votes.
// Its JSON form is what `chamber verify` reads.
type Record struct {
	Version int            `json:"version"`
	Meeting RecordMeeting  `json:"meeting"`
	Items   []RecordItem   `json:"items"`
	Members []RecordMember `json:"members,omitempty"`
	Keys    []RecordKey    `json:"keys"`
	Polls   []RecordPoll   `json:"polls"`
	// Withheld are the log entries the record does not disclose (see Withhold).
	Withheld []RecordWithheld `json:"withheld,omitempty"`
	Log      RecordLog        `json:"log"`
	Extra    json.RawMessage  `json:"extra,omitempty"` // anything the exporter adds; not verified
}

// RecordMeeting identifies the meeting.
type RecordMeeting struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Committee string    `json:"committee,omitempty"`
	StartsAt  time.Time `json:"starts_at,omitzero"`
}

// RecordItem identifies an agenda item.
type RecordItem struct {
	ID     int64  `json:"id"`
	Number string `json:"number,omitempty"`
	Title  string `json:"title"`
}

// RecordMember names a person who appears in the record, for readers.
type RecordMember struct {
	User int64  `json:"user"`
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
}

// RecordKey is a public key that signed ballots in the record, and whose it is.
type RecordKey struct {
	ID        KeyID             `json:"id"`
	User      int64             `json:"user"`
	PublicKey ed25519.PublicKey `json:"public_key"`
}

// RecordLog is the meeting's log as of the record: its origin, the server's note
// verifier key and the signed checkpoint that every proof in the record is against.
type RecordLog struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
	Checkpoint  string `json:"checkpoint"`
}

// LogRef is where an entry is in the log, with the proof against the record's
// checkpoint.
type LogRef struct {
	Index int64            `json:"index"`
	Proof tlog.RecordProof `json:"proof"`
}

// RecordPoll is one poll: how it opened, each ballot, how it closed, and the result.
type RecordPoll struct {
	Opening    PollOpening    `json:"opening"`
	OpeningLog LogRef         `json:"opening_log"`
	Ballots    []RecordBallot `json:"ballots"`
	// Counts are the shows of hands the clerk counted in the room, in log order; the
	// last one counts.
	Counts     []RecordCount `json:"counts,omitempty"`
	Closing    *PollClosing  `json:"closing,omitempty"`
	ClosingLog *LogRef       `json:"closing_log,omitempty"`
	// Declined is, for a poll that closed on an equality, the declaration that no
	// casting vote would come, as logged, and DeclinedLog where.
	Declined    *CastingDeclined `json:"casting_declined,omitempty"`
	DeclinedLog *LogRef          `json:"casting_declined_log,omitempty"`
	// Result is the final result, casting vote included; absent while the poll is open.
	Result *Result `json:"result,omitempty"`
}

// RecordBallot is one accepted ballot: the signed bytes, signature and key, where it
// is in the log, and, for readers, what the bytes say (checked against them).
type RecordBallot struct {
	SignedBallot
	LogRef
	Voter    int64     `json:"voter"`
	Choice   string    `json:"choice"`
	CastAt   time.Time `json:"cast_at"`
	Casting  bool      `json:"casting,omitempty"`
	Recorder int64     `json:"recorded_by,omitempty"` // the clerk who recorded it, if one did
	Proxy    int64     `json:"proxy,omitempty"`
}

// RecordCount is a show of hands counted in the room: the signed count, where it is
// in the log, and, for readers, what the bytes say (checked against them).
type RecordCount struct {
	SignedCount
	LogRef
	Recorder  int64         `json:"recorded_by"`
	CountedAt time.Time     `json:"counted_at"`
	Hands     []OptionCount `json:"hands"`
}

// RecordWithheld is a log entry that the record does not disclose, such as a ballot in
// a poll on exempt business in a record for the public. It is given by its leaf hash
// (RFC 6962: SHA-256 of 0x00 and the entry), so that the log can still be checked whole:
// the reader learns that the entry exists and where, not what it says.
type RecordWithheld struct {
	Index int64     `json:"index"`
	Hash  tlog.Hash `json:"hash"`
	Poll  int64     `json:"poll"`
	Item  int64     `json:"item"`
}

// RecordInput is what BuildRecord reads.
type RecordInput struct {
	Meeting RecordMeeting
	Items   []RecordItem
	Members []RecordMember
	// Keys holds at least every key that signed a ballot in the log.
	Keys []Key
	Log  *Log
	// Checkpoint is a signed checkpoint of Log (usually its last); the record covers
	// the log up to its size.
	Checkpoint []byte
	// VerifierKey is the note verifier key of Log (LogKey.VerifierKey).
	VerifierKey string
}

// BuildRecord reads the meeting's log up to the checkpoint and assembles its record,
// with an inclusion proof for every entry and each closed poll's result.
func BuildRecord(ctx context.Context, in RecordInput) (*Record, error) {
	cp, err := OpenCheckpoint(in.Checkpoint, in.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("build record: %w", err)
	}
	if cp.Origin != in.Log.Origin() {
		return nil, fmt.Errorf("build record: checkpoint of %q for log %q: %w", cp.Origin, in.Log.Origin(), ErrBadProof)
	}
	head, err := in.Log.TreeHead(ctx, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("build record: %w", err)
	}
	if head.Hash != cp.Hash {
		return nil, fmt.Errorf("build record: checkpoint does not match the log at size %d: %w", cp.Size, ErrBadProof)
	}
	leaves, err := in.Log.Leaves(ctx, 0, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("build record: %w", err)
	}
	keys := map[string]Key{}
	for _, k := range in.Keys {
		keys[string(k.PublicKey)] = k
	}
	rec := &Record{
		Version: RecordVersion,
		Meeting: in.Meeting,
		Items:   in.Items,
		Members: in.Members,
		Log:     RecordLog{Origin: cp.Origin, VerifierKey: in.VerifierKey, Checkpoint: string(in.Checkpoint)},
	}
	polls := map[int64]*RecordPoll{}
	var order []int64
	usedKeys := map[string]bool{}
	for i, leaf := range leaves {
		e, err := ParseEntry(leaf)
		if err != nil {
			return nil, fmt.Errorf("build record: log entry %d: %w", i, err)
		}
		// The log holds cp.Size leaves (read above): prove each without reading its
		// size again.
		proof, err := in.Log.proveCommitted(ctx, int64(i), cp.Size)
		if err != nil {
			return nil, fmt.Errorf("build record: %w", err)
		}
		ref := LogRef{Index: int64(i), Proof: proof}
		id := e.Poll()
		if e.Opening != nil {
			if polls[id] != nil {
				return nil, fmt.Errorf("build record: log entry %d opens poll %d again", i, id)
			}
			polls[id] = &RecordPoll{Opening: *e.Opening, OpeningLog: ref, Ballots: []RecordBallot{}}
			order = append(order, id)
			continue
		}
		rp := polls[id]
		if rp == nil {
			return nil, fmt.Errorf("build record: log entry %d is for poll %d, which has not opened", i, id)
		}
		if e.Closing != nil {
			rp.Closing, rp.ClosingLog = e.Closing, &ref
			continue
		}
		if e.Declined != nil {
			if rp.Declined != nil {
				return nil, fmt.Errorf("build record: log entry %d declares no casting vote in poll %d again", i, id)
			}
			rp.Declined, rp.DeclinedLog = e.Declined, &ref
			continue
		}
		if e.Count != nil {
			c, err := ParseCount(e.Count.Bytes)
			if err != nil {
				return nil, fmt.Errorf("build record: log entry %d: %w", i, err)
			}
			if _, ok := keys[string(e.Count.PublicKey)]; !ok {
				return nil, fmt.Errorf("build record: log entry %d: key %s: %w", i, KeyIDOf(e.Count.PublicKey), ErrNotFound)
			}
			usedKeys[string(e.Count.PublicKey)] = true
			rp.Counts = append(rp.Counts, RecordCount{SignedCount: *e.Count, LogRef: ref, Recorder: c.Recorder,
				CountedAt: c.CountedAt, Hands: c.Counts})
			continue
		}
		b, err := ParseBallot(e.Ballot.Bytes)
		if err != nil {
			return nil, fmt.Errorf("build record: log entry %d: %w", i, err)
		}
		if _, ok := keys[string(e.Ballot.PublicKey)]; !ok {
			return nil, fmt.Errorf("build record: log entry %d: key %s: %w", i, KeyIDOf(e.Ballot.PublicKey), ErrNotFound)
		}
		usedKeys[string(e.Ballot.PublicKey)] = true
		rp.Ballots = append(rp.Ballots, RecordBallot{
			SignedBallot: *e.Ballot, LogRef: ref,
			Voter: b.Voter, Choice: b.Choice, CastAt: b.CastAt, Casting: b.Casting, Recorder: b.Recorder, Proxy: b.Proxy,
		})
	}
	for pub := range usedKeys {
		k := keys[pub]
		rec.Keys = append(rec.Keys, RecordKey{ID: k.ID, User: k.User, PublicKey: k.PublicKey})
	}
	slices.SortFunc(rec.Keys, func(a, b RecordKey) int { return cmp.Compare(a.ID, b.ID) })
	// Each closed poll's result counts the ballots that VerifyRecord will count: a
	// ballot the server should not have accepted shows as a problem, not in the result.
	recKeys := map[string]RecordKey{}
	for _, k := range rec.Keys {
		recKeys[string(k.PublicKey)] = k
	}
	for _, id := range order {
		rp := polls[id]
		if rp.Closing != nil {
			v := &verifier{rec: rec, leaves: map[int64]tlog.Hash{}}
			votes, _, closeIndex := v.pollVotes(rp, recKeys)
			room := v.pollCount(rp, recKeys, closeIndex)
			declined := v.pollDeclined(rp, closeIndex)
			res, err := TallyPoll(&Poll{PollOpening: rp.Opening, Closing: rp.Closing, Declined: declined, RoomCount: room}, votes)
			if err == nil {
				rp.Result = &res
			}
		}
		rec.Polls = append(rec.Polls, *rp)
	}
	return rec, nil
}

// Withhold takes the polls for which withhold reports true out of the record: each of
// their log entries (opening, ballots, counts, closing, a declaration that no casting
// vote would come) becomes a RecordWithheld, known by its
// leaf hash only, and keys that no longer sign any ballot in the record leave it. The
// record still verifies: the log is whole, and every disclosed poll is checked as
// before. Members stay; the caller decides whom to name.
func (r *Record) Withhold(withhold func(*RecordPoll) bool) error {
	var kept []RecordPoll
	for i := range r.Polls {
		rp := &r.Polls[i]
		if !withhold(rp) {
			kept = append(kept, *rp)
			continue
		}
		hide := func(index int64, leaf []byte, err error) error {
			if err != nil {
				return fmt.Errorf("withhold poll %d: %w", rp.Opening.ID, err)
			}
			r.Withheld = append(r.Withheld, RecordWithheld{Index: index, Hash: tlog.RecordHash(leaf), Poll: rp.Opening.ID, Item: rp.Opening.Item})
			return nil
		}
		leaf, err := EncodeOpening(&rp.Opening)
		if err := hide(rp.OpeningLog.Index, leaf, err); err != nil {
			return err
		}
		for _, rb := range rp.Ballots {
			leaf, err := EncodeBallotEntry(rb.SignedBallot)
			if err := hide(rb.Index, leaf, err); err != nil {
				return err
			}
		}
		for _, rc := range rp.Counts {
			leaf, err := EncodeCountEntry(rc.SignedCount)
			if err := hide(rc.Index, leaf, err); err != nil {
				return err
			}
		}
		if rp.Closing != nil && rp.ClosingLog != nil {
			leaf, err := EncodeClosing(rp.Closing)
			if err := hide(rp.ClosingLog.Index, leaf, err); err != nil {
				return err
			}
		}
		if rp.Declined != nil && rp.DeclinedLog != nil {
			leaf, err := EncodeCastingDeclined(rp.Declined)
			if err := hide(rp.DeclinedLog.Index, leaf, err); err != nil {
				return err
			}
		}
	}
	if kept == nil {
		kept = []RecordPoll{}
	}
	r.Polls = kept
	slices.SortFunc(r.Withheld, func(a, b RecordWithheld) int { return cmp.Compare(a.Index, b.Index) })
	used := map[string]bool{}
	for _, rp := range r.Polls {
		for _, rb := range rp.Ballots {
			used[string(rb.PublicKey)] = true
		}
		for _, rc := range rp.Counts {
			used[string(rc.PublicKey)] = true
		}
	}
	r.Keys = slices.DeleteFunc(r.Keys, func(k RecordKey) bool { return !used[string(k.PublicKey)] })
	return nil
}

// ProblemKind classifies what VerifyRecord found wrong.
type ProblemKind string

// Kinds of problem.
const (
	ProblemRecord     ProblemKind = "record"      // the record is incomplete or inconsistent in itself
	ProblemCheckpoint ProblemKind = "checkpoint"  // the checkpoint is unsigned, badly signed, or not this log's
	ProblemLog        ProblemKind = "log"         // an entry is missing, repeated, or not in the checkpoint's tree
	ProblemSignature  ProblemKind = "signature"   // a ballot's signature does not verify
	ProblemKey        ProblemKind = "key"         // a ballot's key is unknown or not its signer's
	ProblemBallot     ProblemKind = "ballot"      // a ballot is malformed, for another poll, or differs from what the record says of it
	ProblemEligible   ProblemKind = "eligibility" // a ballot from someone not eligible
	ProblemCount      ProblemKind = "count"       // counts that do not agree with the ballots
	ProblemResult     ProblemKind = "result"      // a result that does not follow from the votes and rules
)

// A Problem is one thing in a record that does not hold.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	Poll int64       `json:"poll,omitempty"`
	// Index is the log index of the entry concerned, or -1.
	Index   int64  `json:"index"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(string(p.Kind))
	if p.Poll != 0 {
		fmt.Fprintf(&b, ": poll %d", p.Poll)
	}
	if p.Index >= 0 {
		fmt.Fprintf(&b, ": log entry %d", p.Index)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// ParseRecord reads a record's JSON, refusing unknown fields and other versions.
func ParseRecord(data []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("record: %w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("record: %w: data after the record", ErrMalformed)
	}
	if r.Version != RecordVersion {
		return nil, fmt.Errorf("record: %w: version %d, want %d", ErrMalformed, r.Version, RecordVersion)
	}
	return &r, nil
}

// VerifyRecord checks a record without trusting whoever produced it, except for the
// log's verifier key: if trusted keys are given (note verifier keys, as the council
// publishes them), the record's must be one of them; without, a careful reader
// compares it with the published one. It checks that the checkpoint is signed by that
// key and names the meeting's log; that the record holds every entry of the log up to
// the checkpoint, once (a withheld entry by its leaf hash), and that they make the
// checkpoint's root; every inclusion proof; every ballot's signature, its key's owner,
// that it belongs to its poll and matches what the record says of it; every voter's
// eligibility; the counts at the close against the ballots; each declaration that no
// casting vote would come (logged after its poll closed, followed by no casting vote);
// and each result against the poll's rules. It returns every problem found; none
// means the record holds.
func VerifyRecord(rec *Record, trusted ...string) []Problem {
	v := &verifier{rec: rec}
	if len(trusted) > 0 && !slices.Contains(trusted, rec.Log.VerifierKey) {
		v.add(ProblemCheckpoint, 0, -1, "the log's verifier key %q is not a trusted one", rec.Log.VerifierKey)
	}
	v.run()
	return v.problems
}

type verifier struct {
	rec      *Record
	problems []Problem
	cp       Checkpoint
	cpOK     bool
	leaves   map[int64]tlog.Hash // leaf hashes by index
}

func (v *verifier) add(kind ProblemKind, poll, index int64, format string, args ...any) {
	v.problems = append(v.problems, Problem{Kind: kind, Poll: poll, Index: index, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) run() {
	rec := v.rec
	if rec.Version != RecordVersion {
		v.add(ProblemRecord, 0, -1, "version %d, want %d", rec.Version, RecordVersion)
		return
	}
	if want := "/meetings/" + strconv.FormatInt(rec.Meeting.ID, 10); !strings.HasSuffix(rec.Log.Origin, want) {
		v.add(ProblemCheckpoint, 0, -1, "log origin %q is not that of meeting %d", rec.Log.Origin, rec.Meeting.ID)
	}
	cp, err := OpenCheckpoint([]byte(rec.Log.Checkpoint), rec.Log.VerifierKey)
	if err != nil {
		v.add(ProblemCheckpoint, 0, -1, "%v", err)
	} else if cp.Origin != rec.Log.Origin {
		v.add(ProblemCheckpoint, 0, -1, "checkpoint of log %q, record of log %q", cp.Origin, rec.Log.Origin)
	} else {
		v.cp, v.cpOK = cp, true
	}

	v.leaves = map[int64]tlog.Hash{}
	items := map[int64]bool{}
	for _, it := range rec.Items {
		items[it.ID] = true
	}
	keys := map[string]RecordKey{}
	for _, k := range rec.Keys {
		if KeyIDOf(k.PublicKey) != k.ID {
			v.add(ProblemKey, 0, -1, "key %s: id does not match the public key", k.ID)
		}
		keys[string(k.PublicKey)] = k
	}
	seenPolls := map[int64]bool{}
	for i := range rec.Polls {
		rp := &rec.Polls[i]
		id := rp.Opening.ID
		if seenPolls[id] {
			v.add(ProblemRecord, id, -1, "poll appears twice")
		}
		seenPolls[id] = true
		if rp.Opening.Meeting != rec.Meeting.ID {
			v.add(ProblemRecord, id, -1, "poll of meeting %d in the record of meeting %d", rp.Opening.Meeting, rec.Meeting.ID)
		}
		if !items[rp.Opening.Item] {
			v.add(ProblemRecord, id, -1, "item %d is not among the record's items", rp.Opening.Item)
		}
		v.poll(rp, keys)
	}
	for _, w := range rec.Withheld {
		if seenPolls[w.Poll] {
			v.add(ProblemRecord, w.Poll, w.Index, "an entry of a poll the record discloses is withheld")
		}
		if !items[w.Item] {
			v.add(ProblemRecord, w.Poll, w.Index, "withheld entry of item %d, which is not among the record's items", w.Item)
		}
		v.claim(w.Poll, w.Index, w.Hash)
	}
	v.logComplete()
}

// entry records leaf as the record's claim for log index ref.Index and checks its
// inclusion proof.
func (v *verifier) entry(poll int64, ref LogRef, leaf []byte) {
	if !v.claim(poll, ref.Index, tlog.RecordHash(leaf)) || !v.cpOK {
		return
	}
	if err := VerifyInclusion(v.cp, ref.Index, leaf, ref.Proof); err != nil {
		v.add(ProblemLog, poll, ref.Index, "not in the checkpoint's tree: %v", err)
	}
}

// claim records h as the record's leaf hash for log index i, reporting false if the
// index was claimed already.
func (v *verifier) claim(poll, i int64, h tlog.Hash) bool {
	if prev, dup := v.leaves[i]; dup {
		if prev != h {
			v.add(ProblemLog, poll, i, "two different entries claim this index")
		} else {
			v.add(ProblemLog, poll, i, "entry appears twice")
		}
		return false
	}
	v.leaves[i] = h
	return true
}

// logComplete checks that the record holds every entry of the log up to the
// checkpoint and that they make its root.
func (v *verifier) logComplete() {
	if !v.cpOK {
		return
	}
	var missing []int64
	all := make([]tlog.Hash, 0, v.cp.Size)
	for i := int64(0); i < v.cp.Size; i++ {
		h, ok := v.leaves[i]
		if !ok {
			missing = append(missing, i)
			continue
		}
		all = append(all, h)
	}
	for i := range v.leaves {
		if i < 0 || i >= v.cp.Size {
			v.add(ProblemLog, 0, i, "beyond the checkpoint's %d entries", v.cp.Size)
		}
	}
	for _, i := range missing {
		v.add(ProblemLog, 0, i, "missing from the record (a removed ballot or poll?)")
	}
	if len(missing) > 0 {
		return
	}
	root, err := RootOfHashes(all)
	if err != nil {
		v.add(ProblemLog, 0, -1, "computing the root: %v", err)
		return
	}
	if root != v.cp.Hash {
		v.add(ProblemLog, 0, -1, "the record's %d entries do not make the checkpoint's root", v.cp.Size)
	}
}

func (v *verifier) poll(rp *RecordPoll, keys map[string]RecordKey) {
	op := &rp.Opening
	id := op.ID
	votes, ordinary, closeIndex := v.pollVotes(rp, keys)
	room := v.pollCount(rp, keys, closeIndex)
	declined := v.pollDeclined(rp, closeIndex)
	if room != nil {
		// The hands are of eligible members who did not vote by ballot.
		voters := map[int64]bool{}
		for _, vt := range ordinary {
			voters[vt.Voter] = true
		}
		if n := room.Total() + len(voters); n > len(op.Eligible) {
			v.add(ProblemCount, id, -1, "%d hands counted in the room and %d members voting by ballot make %d votes, of %d eligible",
				room.Total(), len(voters), n, len(op.Eligible))
		}
	}
	if rp.Closing == nil {
		if rp.Result != nil {
			v.add(ProblemResult, id, -1, "a result for a poll that has not closed")
		}
		return
	}
	want, err := op.CloseCounted(rp.Closing.ClosedAt, rp.Closing.ClosedBy, rp.Closing.PresentAtClose, ordinary, room)
	if err != nil {
		v.add(ProblemResult, id, -1, "tallying the ballots: %v", err)
		return
	}
	if rp.Closing.Ballots != want.Ballots {
		v.add(ProblemCount, id, closeIndex, "closing counts %d ballots, the record holds %d", rp.Closing.Ballots, want.Ballots)
	}
	if !reflect.DeepEqual(rp.Closing.Counts, want.Counts) {
		v.add(ProblemCount, id, closeIndex, "closing counts %s, the ballots give %s", countsText(rp.Closing.Counts), countsText(want.Counts))
	}
	if rp.Closing.Outcome != want.Outcome {
		v.add(ProblemResult, id, closeIndex, "closing outcome %q, the ballots and rules give %q", rp.Closing.Outcome, want.Outcome)
	}
	final, err := TallyPoll(&Poll{PollOpening: *op, Closing: rp.Closing, Declined: declined, RoomCount: room}, votes)
	if err != nil {
		v.add(ProblemResult, id, -1, "tallying the ballots: %v", err)
		return
	}
	switch got := rp.Result; {
	case got == nil:
		v.add(ProblemResult, id, -1, "no result for a closed poll")
	case !reflect.DeepEqual(got.Counts, final.Counts) || got.VotesCast != final.VotesCast ||
		got.Abstentions != final.Abstentions || got.NotVoting != final.NotVoting || got.Ballots != final.Ballots:
		v.add(ProblemCount, id, -1, "result counts %s (%d cast, %d abstaining, %d not voting, %d ballots), the ballots give %s (%d, %d, %d, %d)",
			countsText(got.Counts), got.VotesCast, got.Abstentions, got.NotVoting, got.Ballots,
			countsText(final.Counts), final.VotesCast, final.Abstentions, final.NotVoting, final.Ballots)
	case !slices.Equal(got.Votes, final.Votes):
		v.add(ProblemCount, id, -1, "the result's list of votes differs from the ballots")
	case !slices.Equal(got.Counted, final.Counted):
		v.add(ProblemCount, id, -1, "the result's hands counted in the room (%s) differ from the clerk's last count (%s)",
			countsText(got.Counted), countsText(final.Counted))
	case !reflect.DeepEqual(got.Equality, final.Equality):
		v.add(ProblemResult, id, -1, "the result says of the equality %s, the ballots and rules give %s", equalityText(got.Equality), equalityText(final.Equality))
	case got.Outcome != final.Outcome || got.Winner != final.Winner || got.CastingVote != final.CastingVote ||
		got.PreponderantVote != final.PreponderantVote:
		v.add(ProblemResult, id, -1, "result %q (winner %q, casting vote %q, preponderant vote %q), the ballots and rules give %q (%q, %q, %q)",
			got.Outcome, got.Winner, got.CastingVote, got.PreponderantVote, final.Outcome, final.Winner, final.CastingVote, final.PreponderantVote)
	}
}

// pollDeclined checks a poll's declaration that no casting vote would come, if it has
// one, and returns it for the tally, nil if there is none or it is not this poll's:
// it must be logged, after the poll closed, name the poll's presiding member, and no
// casting vote may follow it. Whether the poll awaited a casting vote at all, the
// tally decides.
func (v *verifier) pollDeclined(rp *RecordPoll, closeIndex int64) *CastingDeclined {
	op := &rp.Opening
	id := op.ID
	d := rp.Declined
	switch {
	case d == nil && rp.DeclinedLog != nil:
		v.add(ProblemRecord, id, rp.DeclinedLog.Index, "a log reference for a declaration of no casting vote that the record does not hold")
		return nil
	case d == nil:
		return nil
	case rp.DeclinedLog == nil:
		v.add(ProblemRecord, id, -1, "declaration of no casting vote without its log entry")
		return nil
	case d.Meeting != op.Meeting || d.Item != op.Item || d.Poll != id:
		v.add(ProblemRecord, id, rp.DeclinedLog.Index, "declaration of no casting vote in another poll")
		return nil
	}
	idx := rp.DeclinedLog.Index
	leaf, err := EncodeCastingDeclined(d)
	if err != nil {
		v.add(ProblemRecord, id, idx, "declaration of no casting vote: %v", err)
		return nil
	}
	v.entry(id, *rp.DeclinedLog, leaf)
	if closeIndex < 0 || idx < closeIndex {
		v.add(ProblemLog, id, idx, "no casting vote declared before the poll closed")
	}
	if d.Presiding != op.Presiding {
		v.add(ProblemResult, id, idx, "no casting vote declared of user %d, the poll's presiding member is user %d", d.Presiding, op.Presiding)
	}
	for _, rb := range rp.Ballots {
		if rb.Casting && rb.Index > idx {
			v.add(ProblemLog, id, rb.Index, "casting vote logged after it was declared that none would come")
		}
	}
	return d
}

func equalityText(e *Equality) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%v: %s", e.Options, e.Resolution)
}

// pollCount checks the counts of hands in a poll and returns the last that holds,
// nil if none does: each must be signed by its key, the key its recorder's, for this
// poll and its options, in a poll that is not a recorded vote, logged while the poll
// was open, and match what the record says of it.
func (v *verifier) pollCount(rp *RecordPoll, keys map[string]RecordKey, closeIndex int64) *Count {
	op := &rp.Opening
	id := op.ID
	var last *Count
	lastIndex := int64(-1)
	for _, rc := range rp.Counts {
		idx := rc.Index
		if leaf, err := EncodeCountEntry(rc.SignedCount); err != nil {
			v.add(ProblemBallot, id, idx, "count: %v", err)
			continue
		} else {
			v.entry(id, rc.LogRef, leaf)
		}
		c, err := rc.SignedCount.Open()
		switch {
		case errIsBadSignature(err):
			v.add(ProblemSignature, id, idx, "count by user %d: the signature does not verify", rc.Recorder)
			continue
		case err != nil:
			v.add(ProblemBallot, id, idx, "count: %v", err)
			continue
		}
		ok := true
		if k, known := keys[string(rc.PublicKey)]; !known {
			v.add(ProblemKey, id, idx, "key %s is not among the record's keys", KeyIDOf(rc.PublicKey))
			ok = false
		} else if k.User != c.Recorder {
			v.add(ProblemKey, id, idx, "count signed with the key of user %d, recorded by user %d", k.User, c.Recorder)
			ok = false
		}
		if rc.Recorder != c.Recorder || !rc.CountedAt.Equal(c.CountedAt) || !slices.Equal(rc.Hands, c.Counts) {
			v.add(ProblemBallot, id, idx, "what the record says of the count (%s) differs from the signed count (%s)",
				countsText(rc.Hands), countsText(c.Counts))
			ok = false
		}
		if c.Meeting != op.Meeting || c.Item != op.Item || c.Poll != id || c.Challenge != op.Challenge {
			v.add(ProblemBallot, id, idx, "count for meeting %d item %d poll %d or with another challenge", c.Meeting, c.Item, c.Poll)
			ok = false
		}
		if op.Named {
			v.add(ProblemBallot, id, idx, "a count of hands in a recorded vote, which takes names")
			ok = false
		}
		if err := countsFit(op, &c); err != nil {
			v.add(ProblemBallot, id, idx, "%v", err)
			ok = false
		}
		switch {
		case idx <= rp.OpeningLog.Index:
			v.add(ProblemLog, id, idx, "count logged before the poll opened")
			ok = false
		case closeIndex >= 0 && idx > closeIndex:
			v.add(ProblemLog, id, idx, "count logged after the poll closed")
			ok = false
		}
		if ok && idx > lastIndex {
			last, lastIndex = &c, idx
		}
	}
	return last
}

func errIsBadSignature(err error) bool { return err != nil && errors.Is(err, ErrBadSignature) }

func countsText(cs []OptionCount) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d", c.Option, c.Count))
	}
	return strings.Join(parts, ", ")
}

// pollVotes checks a poll's opening, closing and ballots, and returns the votes of the
// ballots that hold, in log order, all of them and those other than casting votes, and
// the log index of the closing (-1 if none).
func (v *verifier) pollVotes(rp *RecordPoll, keys map[string]RecordKey) (votes, ordinary []Vote, closeIndex int64) {
	op := &rp.Opening
	id := op.ID
	if leaf, err := EncodeOpening(op); err != nil {
		v.add(ProblemRecord, id, rp.OpeningLog.Index, "opening: %v", err)
	} else {
		v.entry(id, rp.OpeningLog, leaf)
	}
	closeIndex = -1
	if rp.Closing != nil {
		if rp.ClosingLog == nil {
			v.add(ProblemRecord, id, -1, "closing without its log entry")
		} else if rp.Closing.Meeting != op.Meeting || rp.Closing.Item != op.Item || rp.Closing.Poll != id {
			v.add(ProblemRecord, id, rp.ClosingLog.Index, "closing of another poll")
		} else if leaf, err := EncodeClosing(rp.Closing); err != nil {
			v.add(ProblemRecord, id, rp.ClosingLog.Index, "closing: %v", err)
		} else {
			closeIndex = rp.ClosingLog.Index
			v.entry(id, *rp.ClosingLog, leaf)
			if closeIndex <= rp.OpeningLog.Index {
				v.add(ProblemLog, id, closeIndex, "closed before it opened")
			}
		}
	}

	// Check each ballot, then tally the good ones in log order.
	type counted struct {
		index int64
		vote  Vote
	}
	var good []counted
	for _, rb := range rp.Ballots {
		idx := rb.Index
		if leaf, err := EncodeBallotEntry(rb.SignedBallot); err != nil {
			v.add(ProblemBallot, id, idx, "%v", err)
			continue
		} else {
			v.entry(id, rb.LogRef, leaf)
		}
		b, err := rb.SignedBallot.Open()
		switch {
		case errIsBadSignature(err):
			v.add(ProblemSignature, id, idx, "ballot of voter %d: the signature does not verify", rb.Voter)
			continue
		case err != nil:
			v.add(ProblemBallot, id, idx, "%v", err)
			continue
		}
		ok := true
		if k, known := keys[string(rb.PublicKey)]; !known {
			v.add(ProblemKey, id, idx, "key %s is not among the record's keys", KeyIDOf(rb.PublicKey))
			ok = false
		} else if k.User != b.Signer() {
			v.add(ProblemKey, id, idx, "signed with the key of user %d, the signer is user %d", k.User, b.Signer())
			ok = false
		}
		if rb.Voter != b.Voter || rb.Choice != b.Choice || rb.Casting != b.Casting || rb.Recorder != b.Recorder ||
			rb.Proxy != b.Proxy || !rb.CastAt.Equal(b.CastAt) {
			v.add(ProblemBallot, id, idx, "what the record says of the ballot (voter %d, %q) differs from the signed ballot (voter %d, %q)",
				rb.Voter, rb.Choice, b.Voter, b.Choice)
			ok = false
		}
		if b.Meeting != op.Meeting || b.Item != op.Item || b.Poll != id || b.Challenge != op.Challenge {
			v.add(ProblemBallot, id, idx, "ballot for meeting %d item %d poll %d or with another challenge", b.Meeting, b.Item, b.Poll)
			ok = false
		}
		if !op.HasOption(b.Choice) {
			v.add(ProblemBallot, id, idx, "choice %q is not an option", b.Choice)
			ok = false
		}
		switch {
		case idx <= rp.OpeningLog.Index:
			v.add(ProblemLog, id, idx, "ballot logged before the poll opened")
			ok = false
		case !b.Casting && closeIndex >= 0 && idx > closeIndex:
			v.add(ProblemLog, id, idx, "ballot logged after the poll closed")
			ok = false
		case b.Casting && (closeIndex < 0 || idx < closeIndex):
			v.add(ProblemLog, id, idx, "casting vote logged before the poll closed")
			ok = false
		}
		if !b.Casting && !op.IsEligible(b.Voter) {
			v.add(ProblemEligible, id, idx, "voter %d was not eligible when the poll opened", b.Voter)
			ok = false
		}
		if ok {
			good = append(good, counted{idx, VoteOf(&b)})
		}
	}
	slices.SortFunc(good, func(a, b counted) int { return cmp.Compare(a.index, b.index) })
	votes = make([]Vote, 0, len(good))
	for _, c := range good {
		votes = append(votes, c.vote)
		if !c.vote.Casting {
			ordinary = append(ordinary, c.vote)
		}
	}
	return votes, ordinary, closeIndex
}
