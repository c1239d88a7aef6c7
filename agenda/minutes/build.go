package minutes

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Source is what a meeting's minutes are drafted from.
type Source struct {
	// Records are the meeting's records and its journal, exempt business included.
	Records agenda.MeetingRecords
	// Record is the meeting's full vote record, every poll disclosed; nil if the
	// meeting held no vote.
	Record *voting.Record
	// Zone is the IANA time zone that the minutes show times in; empty means UTC.
	Zone string
}

// Build drafts the document of a meeting's minutes from what the meeting did: its
// journal gives the order in which items were taken, the resolutions to exclude the
// public and the adjournments; its records give attendance, apologies, substitutions,
// declarations, speakers, motions and the clerk's notes and decisions; the vote record
// gives each vote, member by member, with its place in the signed log.
func Build(src Source) (Document, error) {
	zone := src.Zone
	if zone == "" {
		zone = "UTC"
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return Document{}, fmt.Errorf("draft minutes: time zone %q: %w", zone, ErrInvalid)
	}
	if src.Record != nil && len(src.Record.Withheld) > 0 {
		return Document{}, fmt.Errorf("draft minutes: the vote record withholds %d entries; minutes are drafted from the full record: %w",
			len(src.Record.Withheld), ErrInvalid)
	}
	b := newBuilder(&src.Records)
	b.doc.Zone = zone
	b.meeting()
	b.attendance()
	b.declarations()
	if err := b.items(src.Record); err != nil {
		return Document{}, err
	}
	if src.Record != nil {
		lg, err := logOf(src.Record)
		if err != nil {
			return Document{}, err
		}
		b.doc.Log = lg
	}
	return b.doc, nil
}

type builder struct {
	r      *agenda.MeetingRecords
	people map[int64]agenda.Person
	roles  map[int64]agenda.CommitteeRole
	subFor map[int64]int64 // substitute → member
	subBy  map[int64]int64 // member → substitute
	doc    Document
}

func newBuilder(r *agenda.MeetingRecords) *builder {
	b := &builder{r: r, people: map[int64]agenda.Person{}, roles: map[int64]agenda.CommitteeRole{},
		subFor: map[int64]int64{}, subBy: map[int64]int64{}}
	for _, p := range r.People {
		b.people[p.UserID] = p
	}
	for _, m := range r.Members {
		b.roles[m.UserID] = m.Role
		if _, ok := b.people[m.UserID]; !ok {
			b.people[m.UserID] = agenda.Person{UserID: m.UserID, Name: m.Name}
		}
	}
	for _, s := range r.Substitutions {
		b.subFor[s.SubstituteID] = s.MemberID
		b.subBy[s.MemberID] = s.SubstituteID
	}
	b.doc = Document{Present: []Attendee{}, Officers: []Attendee{}, Others: []Attendee{}, Apologies: []Apology{},
		Substitutions: []Substitution{}, Absent: []Person{}, Declarations: []Declaration{}, Items: []Item{},
		Adjournments: []Adjournment{}}
	return b
}

func (b *builder) person(id int64) Person {
	p, ok := b.people[id]
	if !ok {
		return Person{ID: id, Name: "Person " + strconv.FormatInt(id, 10)}
	}
	return Person{ID: id, Name: p.Name, Title: p.Title, Party: p.Party}
}

func (b *builder) personPtr(id int64) *Person {
	if id == 0 {
		return nil
	}
	p := b.person(id)
	return &p
}

// roleRank orders committee roles as minutes list them: the chair first.
func roleRank(r string) int {
	switch agenda.CommitteeRole(r) {
	case agenda.Chair:
		return 0
	case agenda.ViceChair:
		return 1
	case agenda.Member:
		return 2
	case agenda.Substitute:
		return 3
	}
	return 4
}

func byRoleAndName(a, b Person, ra, rb string) int {
	return cmp.Or(cmp.Compare(roleRank(ra), roleRank(rb)), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

func (b *builder) meeting() {
	r := b.r
	n := 0
	for _, m := range r.Members {
		if m.Role.Voting() {
			n++
		}
	}
	m := r.Meeting
	b.doc.Meeting = Meeting{
		ID: m.ID, Title: m.Title,
		Council:   Body{ID: r.Council.ID, Name: r.Council.Name, Slug: r.Council.Slug},
		Committee: Body{ID: r.Committee.ID, Name: r.Committee.Name, Slug: r.Committee.Slug},
		Profile:   r.Committee.ProfileName,
		StartsAt:  m.StartsAt.UTC(), StartedAt: utcPtr(m.StartedAt), ClosedAt: utcPtr(m.ClosedAt),
		Location: m.Location, Membership: n, Quorum: r.Committee.Profile.Quorum.Of(n),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (b *builder) attendance() {
	r := b.r
	att := slices.Clone(r.Attendance)
	slices.SortStableFunc(att, func(x, y agenda.Attendance) int {
		return cmp.Or(x.ArrivedAt.Compare(y.ArrivedAt), cmp.Compare(x.ID, y.ID))
	})
	byUser := map[int64]*Attendee{}
	var order []int64
	attended := map[int64]bool{}
	for _, a := range att {
		at := byUser[a.UserID]
		if at == nil {
			at = &Attendee{Person: b.person(a.UserID), Arrived: a.ArrivedAt.UTC(), Stretches: []Stretch{}}
			byUser[a.UserID] = at
			order = append(order, a.UserID)
		}
		if a.Mode != agenda.ByProxy {
			attended[a.UserID] = true
		}
		at.Stretches = append(at.Stretches, Stretch{Mode: a.Mode, ProxyHolder: b.personPtr(a.ProxyHolderID),
			From: a.ArrivedAt.UTC(), To: utcPtr(a.LeftAt)})
	}
	for _, id := range order {
		at := byUser[id]
		at.Left = nil
		for _, s := range at.Stretches {
			if s.To == nil {
				at.Left = nil
				break
			}
			if at.Left == nil || s.To.After(*at.Left) {
				at.Left = s.To
			}
		}
		if role, ok := b.roles[id]; ok {
			at.Role = string(role)
			if member := b.subFor[id]; member != 0 {
				at.SubstituteFor = b.personPtr(member)
			}
			b.doc.Present = append(b.doc.Present, *at)
			continue
		}
		p := b.people[id]
		at.Role = string(p.Role)
		if p.Role == agenda.RoleClerk || p.Role == agenda.RoleOfficer {
			b.doc.Officers = append(b.doc.Officers, *at)
		} else {
			b.doc.Others = append(b.doc.Others, *at)
		}
	}
	slices.SortStableFunc(b.doc.Present, func(x, y Attendee) int { return byRoleAndName(x.Person, y.Person, x.Role, y.Role) })
	byName := func(x, y Attendee) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) }
	slices.SortStableFunc(b.doc.Officers, byName)
	slices.SortStableFunc(b.doc.Others, byName)

	for _, role := range []agenda.CommitteeRole{agenda.Chair, agenda.ViceChair} {
		if b.doc.Meeting.Chair != nil {
			break
		}
		for _, m := range r.Members {
			if m.Role == role && attended[m.UserID] {
				b.doc.Meeting.Chair = b.personPtr(m.UserID)
				break
			}
		}
	}

	apologised := map[int64]bool{}
	for _, a := range r.Apologies {
		apologised[a.UserID] = true
		ap := Apology{Person: b.person(a.UserID), Reason: a.Reason}
		if sub := b.subBy[a.UserID]; sub != 0 {
			ap.SubstitutedBy = b.personPtr(sub)
		}
		b.doc.Apologies = append(b.doc.Apologies, ap)
	}
	slices.SortStableFunc(b.doc.Apologies, func(x, y Apology) int { return cmp.Compare(x.Name, y.Name) })
	for _, s := range r.Substitutions {
		b.doc.Substitutions = append(b.doc.Substitutions, Substitution{Substitute: b.person(s.SubstituteID), For: b.person(s.MemberID)})
	}
	slices.SortStableFunc(b.doc.Substitutions, func(x, y Substitution) int { return cmp.Compare(x.For.Name, y.For.Name) })
	for _, m := range r.Members {
		if m.Role.Voting() && byUser[m.UserID] == nil && !apologised[m.UserID] && b.subBy[m.UserID] == 0 {
			b.doc.Absent = append(b.doc.Absent, b.person(m.UserID))
		}
	}
	slices.SortStableFunc(b.doc.Absent, func(x, y Person) int { return cmp.Compare(x.Name, y.Name) })

	for _, e := range r.Events {
		switch e.Type {
		case agenda.EvMeetingAdjourned:
			b.doc.Adjournments = append(b.doc.Adjournments, Adjournment{At: e.At.UTC()})
		case agenda.EvMeetingResumed:
			if n := len(b.doc.Adjournments); n > 0 && b.doc.Adjournments[n-1].Resumed == nil {
				t := e.At.UTC()
				b.doc.Adjournments[n-1].Resumed = &t
			}
		}
	}
}

func (b *builder) declarations() {
	numbers := map[int64]string{}
	for _, it := range b.r.Items {
		numbers[it.ID] = it.Number
	}
	decls := slices.Clone(b.r.Declarations)
	slices.SortStableFunc(decls, func(x, y agenda.Declaration) int {
		return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(x.ID, y.ID))
	})
	for _, d := range decls {
		b.doc.Declarations = append(b.doc.Declarations, Declaration{Person: b.person(d.UserID), ItemID: d.ItemID,
			ItemNumber: numbers[d.ItemID], Kind: d.Kind, Description: d.Description, Withdraws: d.Withdraws,
			Dispensation: d.Dispensation, At: d.CreatedAt.UTC()})
	}
}

// journal reads the order in which items were taken and the resolutions to exclude
// the public.
func (b *builder) journal() (order []int64, exclusions map[int64]*Exclusion, err error) {
	exclusions = map[int64]*Exclusion{}
	seen := map[int64]bool{}
	var current int64
	var last *Exclusion
	for _, e := range b.r.Events {
		switch e.Type {
		case agenda.EvItemCurrent:
			var ref agenda.ItemRef
			if err := json.Unmarshal(e.Data, &ref); err != nil {
				return nil, nil, fmt.Errorf("journal event %d (%s): %w", e.Seq, e.Type, err)
			}
			current = ref.ID
			if !seen[ref.ID] {
				seen[ref.ID] = true
				order = append(order, ref.ID)
			}
		case agenda.EvSessionPrivate:
			var sc agenda.SessionChange
			if err := json.Unmarshal(e.Data, &sc); err != nil {
				return nil, nil, fmt.Errorf("journal event %d (%s): %w", e.Seq, e.Type, err)
			}
			item := cmp.Or(sc.ItemID, current)
			last = &Exclusion{Paragraph: sc.Paragraph, At: e.At.UTC(), Reason: sc.Reason}
			if exclusions[item] == nil {
				exclusions[item] = last
			}
		case agenda.EvSessionPublic:
			if last != nil && last.Readmitted == nil {
				t := e.At.UTC()
				last.Readmitted = &t
			}
		}
	}
	return order, exclusions, nil
}

func (b *builder) items(rec *voting.Record) error {
	order, exclusions, err := b.journal()
	if err != nil {
		return err
	}
	byID := map[int64]agenda.Item{}
	for _, it := range b.r.Items {
		byID[it.ID] = it
	}
	rest := slices.Clone(b.r.Items)
	slices.SortStableFunc(rest, func(x, y agenda.Item) int {
		return cmp.Or(cmp.Compare(x.Position, y.Position), cmp.Compare(x.ID, y.ID))
	})
	taken := map[int64]bool{}
	var items []agenda.Item
	for _, id := range order {
		if it, ok := byID[id]; ok {
			items = append(items, it)
			taken[id] = true
		}
	}
	for _, it := range rest {
		if !taken[it.ID] {
			items = append(items, it)
		}
	}
	for _, it := range items {
		item := Item{ID: it.ID, Number: it.Number, Title: it.Title, Kind: it.Kind, ExemptParagraph: it.ExemptParagraph,
			Taken: taken[it.ID] || it.StartedAt != nil, StartedAt: utcPtr(it.StartedAt), EndedAt: utcPtr(it.EndedAt),
			Description: it.Description, Notes: it.Notes, Decision: it.Decision, Exclusion: exclusions[it.ID],
			Speakers: []Speaker{}, Motions: []Motion{}, Votes: []Vote{}}
		for _, sp := range b.r.Speakers {
			if sp.ItemID == it.ID {
				item.Speakers = append(item.Speakers, Speaker{Name: sp.Name, Capacity: sp.Capacity, Organisation: sp.Organisation})
			}
		}
		motions := slices.Clone(b.r.Motions)
		slices.SortStableFunc(motions, func(x, y agenda.Motion) int { return cmp.Compare(x.ID, y.ID) })
		for _, mo := range motions {
			if mo.ItemID == it.ID {
				item.Motions = append(item.Motions, Motion{ID: mo.ID, AmendsID: mo.AmendsID, Text: mo.Text,
					Proposer: b.personPtr(mo.ProposerID), Seconder: b.personPtr(mo.SeconderID), Status: mo.Status,
					At: mo.CreatedAt.UTC(), Votes: []Vote{}})
			}
		}
		b.doc.Items = append(b.doc.Items, item)
	}
	if rec == nil {
		return nil
	}
	for i := range rec.Polls {
		rp := &rec.Polls[i]
		it := b.doc.Item(rp.Opening.Item)
		if it == nil {
			return fmt.Errorf("draft minutes: poll %d is on item %d, which is not on the agenda: %w", rp.Opening.ID, rp.Opening.Item, ErrInvalid)
		}
		v, err := b.vote(rp, byID[it.ID])
		if err != nil {
			return err
		}
		placed := false
		for j := range it.Motions {
			if mo := &it.Motions[j]; v.MotionID != 0 && mo.ID == v.MotionID {
				mo.Votes = append(mo.Votes, v)
				placed = true
			}
		}
		if !placed {
			it.Votes = append(it.Votes, v)
		}
	}
	return nil
}

// stood reports whether an equality resolved so stood, nothing breaking it.
func stood(r voting.Resolution) bool {
	return r != voting.ResolvedByCastingVote && r != voting.ResolvedByPreponderantVote && r != voting.AwaitingCastingVote
}

// vote turns a poll of the record into a vote of the minutes: one entry per seat on the
// committee, held by the member or the substitute sitting for them, and one for anyone
// else who voted.
func (b *builder) vote(rp *voting.RecordPoll, item agenda.Item) (Vote, error) {
	op := &rp.Opening
	v := Vote{PollID: op.ID, ItemID: op.Item, MotionID: op.Motion, Question: op.Question, Method: op.Method,
		Recorded: op.Named, OpenedAt: op.OpenedAt.UTC(), Membership: op.Membership, Quorum: op.QuorumRequired,
		PresentAtOpen: op.PresentAtOpen, Options: slices.Clone(op.Options), Presiding: b.personPtr(op.Presiding),
		OpeningIndex: rp.OpeningLog.Index, Members: []MemberVote{}, Counts: []voting.OptionCount{}}
	if c := rp.Closing; c != nil {
		t := c.ClosedAt.UTC()
		v.ClosedAt, v.PresentAtClose = &t, c.PresentAtClose
		if rp.ClosingLog != nil {
			idx := rp.ClosingLog.Index
			v.ClosingIndex = &idx
		}
		v.Counts, v.Outcome = slices.Clone(c.Counts), c.Outcome
	}
	var final []voting.Vote
	if res := rp.Result; res != nil {
		v.Counts, v.Outcome, v.Winner, v.Preponderant = slices.Clone(res.Counts), res.Outcome, res.Winner, res.PreponderantVote
		final = res.Votes
		if eq := res.Equality; eq != nil && stood(eq.Resolution) {
			v.Equality = &voting.Equality{Options: slices.Clone(eq.Options), Resolution: eq.Resolution}
		}
	}
	if d := rp.Declined; d != nil && rp.DeclinedLog != nil {
		v.NoCasting = &NoCastingVote{Person: b.person(d.DeclaredBy), Reason: d.Reason, At: d.DeclaredAt.UTC(), LogIndex: rp.DeclinedLog.Index}
	}
	for _, o := range op.Overrides {
		v.Overrides = append(v.Overrides, Override{Member: b.person(o.Voter), Reason: o.Reason})
	}

	// The ballot that counted is each voter's last ordinary one in log order.
	counted := map[int64]voting.RecordBallot{}
	for _, rb := range rp.Ballots {
		if rb.Casting {
			v.Casting = &CastingVote{Person: b.person(rb.Voter), Choice: rb.Choice, RecordedBy: b.personPtr(rb.Recorder),
				CastAt: rb.CastAt.UTC(), LogIndex: rb.Index}
			continue
		}
		counted[rb.Voter] = rb
	}
	votes := map[int64]voting.Vote{}
	for _, fv := range final {
		votes[fv.Voter] = fv
	}

	// Why those present did not vote: the rules as they stood when the poll opened.
	why := map[int64]voting.Reason{}
	roll := b.rollFor(item)
	overrides := map[int64]voting.Override{}
	for _, o := range op.Overrides {
		overrides[o.Voter] = o
	}
	rc := voting.Roll(voting.RulesOf(b.r.Committee.Profile), voting.ItemOf(roll.Item), voting.MembersAt(roll, op.OpenedAt, overrides))
	for _, d := range rc.Decisions {
		if !d.Eligible() {
			why[d.Voter] = d.Reason
		}
	}

	seen := map[int64]bool{}
	add := func(id int64) {
		if seen[id] {
			return
		}
		seen[id] = true
		mv := MemberVote{Person: b.person(id), Role: string(b.roles[id])}
		stretch, present := agenda.PresentAt(b.r.Attendance, id, op.OpenedAt)
		if present {
			mv.Mode = stretch.Mode
		}
		if fv, ok := votes[id]; ok {
			mv.Choice, mv.RecordedBy, mv.Proxy = fv.Choice, b.personPtr(fv.Recorder), b.personPtr(fv.Proxy)
			if rb, ok := counted[id]; ok {
				idx, at := rb.Index, rb.CastAt.UTC()
				mv.LogIndex, mv.CastAt = &idx, &at
			}
		} else if present {
			mv.Reason = why[id]
			v.NotVoting++
		} else {
			mv.Absent = true
			v.Absent++
		}
		v.Members = append(v.Members, mv)
	}
	seats := slices.Clone(b.r.Members)
	slices.SortStableFunc(seats, func(x, y agenda.Membership) int {
		return byRoleAndName(b.person(x.UserID), b.person(y.UserID), string(x.Role), string(y.Role))
	})
	for _, m := range seats {
		if !m.Role.Voting() {
			continue
		}
		if sub := b.subBy[m.UserID]; sub != 0 {
			add(sub)
		} else {
			add(m.UserID)
		}
	}
	others := slices.Clone(op.Eligible)
	for _, fv := range final {
		others = append(others, fv.Voter)
	}
	slices.Sort(others)
	for _, id := range others {
		add(id)
	}
	if res := rp.Result; res != nil {
		// Hands counted in the room are votes of members present who cast no ballot.
		for _, c := range res.Counted {
			v.NotVoting -= c.Count
		}
		v.NotVoting = max(v.NotVoting, 0)
	}

	// The chair first, then the vice-chair, then members (and substitutes sitting as
	// members) by name; anyone else last.
	rank := func(mv MemberVote) int {
		if r := roleRank(mv.Role); r < 3 {
			return r
		}
		if b.subFor[mv.ID] != 0 {
			return 2
		}
		return 4
	}
	slices.SortStableFunc(v.Members, func(x, y MemberVote) int {
		return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID))
	})

	// The entries must agree with the counts: the members' votes by name, and the hands
	// counted in the room, which carry no names.
	hands := map[string]int{}
	if res := rp.Result; res != nil {
		for _, c := range res.Counted {
			hands[c.Option] = c.Count
		}
	}
	for _, c := range v.Counts {
		n := hands[c.Option]
		for _, mv := range v.Members {
			if mv.Choice == c.Option {
				n++
			}
		}
		if n != c.Count {
			return Vote{}, fmt.Errorf("draft minutes: poll %d: %d members voted %q, the count is %d: %w", op.ID, n, c.Option, c.Count, ErrInvalid)
		}
	}
	return v, nil
}

// rollFor rebuilds the agenda's roll for an item, as it stood while the item was being
// taken (the item not yet ended), for the eligibility rules.
func (b *builder) rollFor(it agenda.Item) agenda.Roll {
	r := b.r
	it.EndedAt = nil
	roll := agenda.Roll{Meeting: r.Meeting, Committee: r.Committee, Item: it, Members: r.Members,
		Substitutions: r.Substitutions, Apologies: r.Apologies, Attendance: r.Attendance, People: map[int64]string{}}
	for _, d := range r.Declarations {
		if d.ItemID == it.ID {
			roll.Declarations = append(roll.Declarations, d)
		}
	}
	for id, p := range b.people {
		roll.People[id] = p.Name
	}
	return roll
}

func logOf(rec *voting.Record) (*Log, error) {
	cp, err := voting.OpenCheckpoint([]byte(rec.Log.Checkpoint), rec.Log.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("draft minutes: the vote record's checkpoint: %w", err)
	}
	return &Log{Origin: rec.Log.Origin, VerifierKey: rec.Log.VerifierKey, Checkpoint: rec.Log.Checkpoint,
		Size: cp.Size, RootHash: cp.Hash.String()}, nil
}
