package minutes

import (
	"bufio"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Popolo is the minutes' votes as Popolo open data (https://www.popoloproject.com):
// the organizations and persons they name and one vote event per vote, in the terms of
// Popolo's VoteEvent, Motion, Count and Vote (and Open Civic Data's, which follow them).
// What Popolo has no term for is under "extras": quorum and the number present,
// attendance modes, who recorded each vote, the casting vote, the Schedule 12A
// paragraph of exempt business, and where each vote is in the signed log, with its
// inclusion proof and the log's checkpoint.
type Popolo struct {
	Meeting       PopoloMeeting        `json:"meeting"`
	Organizations []PopoloOrganization `json:"organizations"`
	Persons       []PopoloPerson       `json:"persons"`
	VoteEvents    []PopoloVoteEvent    `json:"vote_events"`
}

// PopoloMeeting is the meeting, as a Popolo event.
type PopoloMeeting struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	OrganizationID string  `json:"organization_id"`
	StartDate      string  `json:"start_date"`
	EndDate        *string `json:"end_date"`
	Location       string  `json:"location,omitempty"`
}

// PopoloOrganization is a council, a committee or a party.
type PopoloOrganization struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Classification string  `json:"classification"`
	ParentID       *string `json:"parent_id,omitempty"`
}

// PopoloPerson is a person who voted or was expected to.
type PopoloPerson struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	HonorificPrefix string `json:"honorific_prefix,omitempty"`
}

// PopoloVoteEvent is one vote.
type PopoloVoteEvent struct {
	ID                   string          `json:"id"`
	Identifier           string          `json:"identifier"`
	MotionID             string          `json:"motion_id"`
	Motion               PopoloMotion    `json:"motion"`
	OrganizationID       string          `json:"organization_id"`
	LegislativeSessionID string          `json:"legislative_session_id"`
	StartDate            string          `json:"start_date"`
	EndDate              *string         `json:"end_date"`
	Result               string          `json:"result"` // "pass" or "fail"
	Counts               []PopoloCount   `json:"counts"`
	Votes                []PopoloVote    `json:"votes"`
	Extras               PopoloVoteExtra `json:"extras"`
}

// PopoloMotion is what was put to the vote.
type PopoloMotion struct {
	ID                   string  `json:"id"`
	OrganizationID       string  `json:"organization_id"`
	LegislativeSessionID string  `json:"legislative_session_id"`
	CreatorID            *string `json:"creator_id"`
	Text                 string  `json:"text"`
	Classification       string  `json:"classification"` // motion, amendment or question
	Date                 string  `json:"date"`
	Requirement          string  `json:"requirement"`
	Result               string  `json:"result"`
}

// PopoloCount is the number of votes for one option.
type PopoloCount struct {
	Option string `json:"option"`
	Value  int    `json:"value"`
}

// PopoloVote is one person's vote. A casting vote is a vote of its own, with
// extras.casting set.
type PopoloVote struct {
	VoteEventID string             `json:"vote_event_id"`
	VoterID     string             `json:"voter_id"`
	Voter       PopoloVoter        `json:"voter"`
	Option      string             `json:"option"`
	PartyID     *string            `json:"party_id"`
	Role        string             `json:"role"`
	Weight      int                `json:"weight"`
	Extras      PopoloMemberExtras `json:"extras"`
}

// PopoloVoter names the voter.
type PopoloVoter struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PopoloMemberExtras are Chamber's facts about one vote.
type PopoloMemberExtras struct {
	AttendanceMode string `json:"attendance_mode,omitempty"`
	// RecordedBy is "member" (the member's own device), "clerk" or "proxy".
	RecordedBy string `json:"recorded_by,omitempty"`
	RecorderID string `json:"recorder_id,omitempty"`
	Casting    bool   `json:"casting"`
	Reason     string `json:"reason,omitempty"`
	CastAt     string `json:"cast_at,omitempty"`
	LogIndex   *int64 `json:"log_index,omitempty"`
	// InclusionProof is the ballot's proof of inclusion in the log at the checkpoint:
	// base64 hashes, as in the vote record.
	InclusionProof []string `json:"inclusion_proof,omitempty"`
}

// PopoloVoteExtra are Chamber's facts about a vote.
type PopoloVoteExtra struct {
	Item           PopoloItem `json:"item"`
	Question       string     `json:"question"`
	Method         string     `json:"method"`
	RecordedVote   bool       `json:"recorded_vote"`
	Outcome        string     `json:"outcome"`
	Winner         string     `json:"winner,omitempty"`
	Membership     int        `json:"membership"`
	Quorum         int        `json:"quorum"`
	PresentAtOpen  int        `json:"present_at_open"`
	PresentAtClose int        `json:"present_at_close"`
	CastingVote    string     `json:"casting_vote,omitempty"`
	Preponderant   string     `json:"preponderant_vote,omitempty"`
	Presiding      string     `json:"presiding_id,omitempty"`
	// ExemptParagraph is the Schedule 12A paragraph of exempt business (full view only).
	ExemptParagraph int       `json:"exempt_paragraph,omitempty"`
	Log             PopoloLog `json:"log"`
}

// PopoloItem is the agenda item voted on.
type PopoloItem struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Title  string `json:"title"`
}

// PopoloLog is where a vote is in the meeting's signed log.
type PopoloLog struct {
	Origin       string `json:"origin,omitempty"`
	OpeningIndex int64  `json:"opening_index"`
	ClosingIndex *int64 `json:"closing_index,omitempty"`
	Checkpoint   string `json:"checkpoint,omitempty"`
	VerifierKey  string `json:"verifier_key,omitempty"`
}

// Popolo options for the motions' options.
var popoloOptions = map[string]string{voting.OptionFor: "yes", voting.OptionAgainst: "no", voting.OptionAbstain: "abstain"}

// Popolo options for members who did not vote.
const (
	PopoloAbsent    = "absent"
	PopoloNotVoting = "not voting"
)

// PopoloOption maps a poll's option key to Popolo's: for → yes, against → no, abstain;
// a plurality vote's options are their own.
func PopoloOption(o string) string {
	if p, ok := popoloOptions[o]; ok {
		return p
	}
	return o
}

var popoloRoles = map[string]string{
	string(agenda.Chair): "chair", string(agenda.ViceChair): "vice-chair", string(agenda.Member): "member",
	string(agenda.Substitute): "substitute",
}

// PopoloOf returns the minutes' votes as Popolo data. Inclusion proofs come from the
// vote record attached to the minutes, if any.
func PopoloOf(m *Minutes) Popolo {
	mid := "meeting/" + strconv.FormatInt(m.Meeting.ID, 10)
	council := "council/" + strconv.FormatInt(m.Meeting.Council.ID, 10)
	committee := "committee/" + strconv.FormatInt(m.Meeting.Committee.ID, 10)
	out := Popolo{
		Meeting: PopoloMeeting{ID: mid, Name: m.Meeting.Title, OrganizationID: committee, StartDate: rfc3339(m.Meeting.StartsAt),
			EndDate: rfc3339Ptr(m.Meeting.ClosedAt), Location: m.Meeting.Location},
		Organizations: []PopoloOrganization{
			{ID: council, Name: m.Meeting.Council.Name, Classification: "council"},
			{ID: committee, Name: m.Meeting.Committee.Name, Classification: "committee", ParentID: &council},
		},
		Persons:    []PopoloPerson{},
		VoteEvents: []PopoloVoteEvent{},
	}
	persons := map[int64]bool{}
	parties := map[string]bool{}
	person := func(p Person) string {
		id := "person/" + strconv.FormatInt(p.ID, 10)
		if !persons[p.ID] {
			persons[p.ID] = true
			pp := PopoloPerson{ID: id, Name: p.Name}
			if honorifics[p.Title] {
				pp.HonorificPrefix = p.Title
			}
			out.Persons = append(out.Persons, pp)
		}
		return id
	}
	party := func(name string) *string {
		if name == "" {
			return nil
		}
		id := "party/" + agenda.Slugify(name)
		if !parties[id] {
			parties[id] = true
			out.Organizations = append(out.Organizations, PopoloOrganization{ID: id, Name: name, Classification: "party"})
		}
		return &id
	}
	proofs := proofsOf(m.Record)
	for _, ref := range m.Votes() {
		v, it := ref.Vote, ref.Item
		id := mid + "/poll/" + strconv.FormatInt(v.PollID, 10)
		ev := PopoloVoteEvent{
			ID: id, Identifier: strconv.FormatInt(v.PollID, 10), OrganizationID: committee, LegislativeSessionID: mid,
			StartDate: rfc3339(v.OpenedAt), EndDate: rfc3339Ptr(v.ClosedAt), Result: "fail",
			Counts: []PopoloCount{}, Votes: []PopoloVote{},
			Extras: PopoloVoteExtra{
				Item:     PopoloItem{ID: "item/" + strconv.FormatInt(it.ID, 10), Number: it.Number, Title: it.Title},
				Question: v.Question, Method: string(v.Method), RecordedVote: v.Recorded, Outcome: string(v.Outcome), Winner: v.Winner,
				Membership: v.Membership, Quorum: v.Quorum, PresentAtOpen: v.PresentAtOpen, PresentAtClose: v.PresentAtClose,
				Preponderant: v.Preponderant, Log: PopoloLog{OpeningIndex: v.OpeningIndex, ClosingIndex: v.ClosingIndex},
			},
		}
		if v.Carried() {
			ev.Result = "pass"
		}
		if it.Exempt() {
			ev.Extras.ExemptParagraph = it.ExemptParagraph
		}
		if v.Presiding != nil {
			ev.Extras.Presiding = person(*v.Presiding)
		}
		if lg := m.Log; lg != nil {
			ev.Extras.Log.Origin, ev.Extras.Log.Checkpoint, ev.Extras.Log.VerifierKey = lg.Origin, lg.Checkpoint, lg.VerifierKey
		}
		ev.Motion = PopoloMotion{ID: id + "/question", OrganizationID: committee, LegislativeSessionID: mid, Text: v.Question,
			Classification: "question", Date: rfc3339(v.OpenedAt), Requirement: string(v.Method), Result: string(v.Outcome)}
		if mo := ref.Motion; mo != nil {
			ev.MotionID = mid + "/motion/" + strconv.FormatInt(mo.ID, 10)
			ev.Motion.ID, ev.Motion.Text, ev.Motion.Date, ev.Motion.Result = ev.MotionID, mo.Text, rfc3339(mo.At), string(mo.Status)
			ev.Motion.Classification = "motion"
			if mo.Amendment() {
				ev.Motion.Classification = "amendment"
			}
			if mo.Proposer != nil {
				c := person(*mo.Proposer)
				ev.Motion.CreatorID = &c
			}
		} else {
			ev.MotionID = ev.Motion.ID
		}
		for _, c := range v.Counts {
			ev.Counts = append(ev.Counts, PopoloCount{Option: PopoloOption(c.Option), Value: c.Count})
		}
		ev.Counts = append(ev.Counts, PopoloCount{Option: PopoloAbsent, Value: v.Absent}, PopoloCount{Option: PopoloNotVoting, Value: v.NotVoting})
		for _, mv := range v.Members {
			pv := PopoloVote{VoteEventID: id, VoterID: person(mv.Person), Voter: PopoloVoter{ID: person(mv.Person), Name: mv.Name},
				PartyID: party(mv.Party), Role: popoloRoles[mv.Role], Weight: 1,
				Extras: PopoloMemberExtras{AttendanceMode: string(mv.Mode), Reason: string(mv.Reason), LogIndex: mv.LogIndex}}
			if pv.Role == "" {
				pv.Role = "voter"
			}
			switch {
			case mv.Absent:
				pv.Option = PopoloAbsent
			case !mv.Voted():
				pv.Option = PopoloNotVoting
			default:
				pv.Option = PopoloOption(mv.Choice)
				pv.Extras.RecordedBy = ByMember
				switch {
				case mv.RecordedBy != nil:
					pv.Extras.RecordedBy, pv.Extras.RecorderID = ByClerk, person(*mv.RecordedBy)
				case mv.Proxy != nil:
					pv.Extras.RecordedBy, pv.Extras.RecorderID = ByProxy, person(*mv.Proxy)
				}
				if mv.CastAt != nil {
					pv.Extras.CastAt = rfc3339(*mv.CastAt)
				}
				if mv.LogIndex != nil {
					pv.Extras.InclusionProof = proofs[*mv.LogIndex]
				}
			}
			ev.Votes = append(ev.Votes, pv)
		}
		if c := v.Casting; c != nil {
			idx := c.LogIndex
			pv := PopoloVote{VoteEventID: id, VoterID: person(c.Person), Voter: PopoloVoter{ID: person(c.Person), Name: c.Name},
				Option: PopoloOption(c.Choice), PartyID: party(c.Party), Role: "presiding", Weight: 1,
				Extras: PopoloMemberExtras{RecordedBy: ByMember, Casting: true, CastAt: rfc3339(c.CastAt), LogIndex: &idx,
					InclusionProof: proofs[idx]}}
			if c.RecordedBy != nil {
				pv.Extras.RecordedBy, pv.Extras.RecorderID = ByClerk, person(*c.RecordedBy)
			}
			ev.Votes = append(ev.Votes, pv)
			ev.Extras.CastingVote = PopoloOption(c.Choice)
		}
		out.VoteEvents = append(out.VoteEvents, ev)
	}
	slices.SortStableFunc(out.Organizations[2:], func(a, b PopoloOrganization) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// proofsOf returns the inclusion proof of every ballot in the record, by log index.
func proofsOf(rec *voting.Record) map[int64][]string {
	out := map[int64][]string{}
	if rec == nil {
		return out
	}
	for _, rp := range rec.Polls {
		for _, rb := range rp.Ballots {
			proof := make([]string, len(rb.Proof))
			for i, h := range rb.Proof {
				proof[i] = base64.StdEncoding.EncodeToString(h[:])
			}
			out[rb.Index] = proof
		}
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func rfc3339Ptr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}

// WritePopolo writes the minutes' votes as Popolo JSON (see Popolo), indented. Vote
// events are encoded one at a time, so that a large meeting needs no buffer the size
// of the whole document.
func WritePopolo(w io.Writer, m *Minutes) error {
	p := PopoloOf(m)
	bw := bufio.NewWriter(w)
	field := func(name string, v any, last bool) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "  %q: %s", name, b)
		if !last {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		return nil
	}
	bw.WriteString("{\n")
	if err := field("meeting", p.Meeting, false); err != nil {
		return fmt.Errorf("write Popolo: %w", err)
	}
	if err := field("organizations", p.Organizations, false); err != nil {
		return fmt.Errorf("write Popolo: %w", err)
	}
	if err := field("persons", p.Persons, false); err != nil {
		return fmt.Errorf("write Popolo: %w", err)
	}
	if len(p.VoteEvents) == 0 {
		bw.WriteString("  \"vote_events\": []\n}\n")
		return bw.Flush()
	}
	bw.WriteString("  \"vote_events\": [\n")
	for i, ev := range p.VoteEvents {
		b, err := json.MarshalIndent(ev, "    ", "  ")
		if err != nil {
			return fmt.Errorf("write Popolo: %w", err)
		}
		bw.WriteString("    ")
		bw.Write(b)
		if i < len(p.VoteEvents)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}
