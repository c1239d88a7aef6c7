package minutes

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Status is where a version of the minutes is in its life.
type Status string

// Statuses: draft → approved → published. A correction is published as it is made.
const (
	Draft     Status = "draft"
	Approved  Status = "approved"
	Published Status = "published"
)

// View says what a copy of the minutes shows.
type View string

// Views. The full view is for the committee's members and the council's staff; the
// public view shows exempt business (LGA 1972 s.100A, Schedule 12A) by its number and
// title only.
const (
	FullView   View = "full"
	PublicView View = "public"
)

// Minutes is one version of a meeting's minutes: where the version stands, and the
// document drafted from what the meeting did, with the clerk's text.
type Minutes struct {
	Header
	View View `json:"view"`
	Document
	// Record is the meeting's vote record, when the minutes are read for export; the
	// record and Popolo exports take proofs from it. It is not part of the stored
	// minutes: it is built from the meeting's vote log, which no longer changes once
	// the meeting has closed.
	Record *voting.Record `json:"-"`
}

// Header is where one version of a meeting's minutes stands.
type Header struct {
	MeetingID int64  `json:"meeting_id"`
	Version   int    `json:"version"`
	Status    Status `json:"status"`
	// Drafted is when and by whom the version was made: the draft, or the correction.
	Drafted Stamp `json:"drafted"`
	// Edited is the clerk's last edit of the draft.
	Edited *Stamp `json:"edited,omitempty"`
	// Approval is the chair's approval, at a later meeting. A correction keeps the
	// approval of the minutes it corrects.
	Approval  *Approval `json:"approval,omitempty"`
	Published *Stamp    `json:"published,omitempty"`
	// Correction says what this version changed in the one before, and why.
	Correction *Correction `json:"correction,omitempty"`
}

// Stamp says who did something and when.
type Stamp struct {
	By Person    `json:"by"`
	At time.Time `json:"at"`
}

// Approval is the record that the minutes were approved as a correct record, signed
// by the person presiding at a later meeting (LGA 1972 Sch.12 para 41).
type Approval struct {
	Stamp
	// Meeting is the meeting at which they were approved.
	Meeting MeetingRef `json:"meeting"`
}

// MeetingRef names a meeting.
type MeetingRef struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
}

// Correction is what a version published after the first changed, and why.
type Correction struct {
	// Supersedes is the version corrected.
	Supersedes int    `json:"supersedes"`
	Reason     string `json:"reason"`
	// Summary says in one line what changed.
	Summary string   `json:"summary"`
	Changes []Change `json:"changes"`
}

// Change is one field of one item changed by a correction.
type Change struct {
	ItemID int64  `json:"item_id"`
	Number string `json:"number"`
	Title  string `json:"title"`
	Field  string `json:"field"` // "notes" or "decision"
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Added and Removed count the lines added and removed.
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Redacted is true when the text of a change to exempt business is withheld.
	Redacted bool `json:"redacted,omitempty"`
}

// FormatVersion is the version of the stored Document's form.
const FormatVersion = 1

// Document is what the minutes say: drafted from the meeting's journal, its records and
// its votes. Only the items' notes and decisions change after drafting.
type Document struct {
	Meeting Meeting `json:"meeting"`
	// Zone is the IANA time zone that the minutes show times in.
	Zone string `json:"zone"`
	// Present are the committee's members and substitutes who attended.
	Present []Attendee `json:"present"`
	// Officers are the council's clerks and officers who attended.
	Officers []Attendee `json:"officers"`
	// Others are anyone else who attended: councillors not on the committee.
	Others        []Attendee     `json:"others"`
	Apologies     []Apology      `json:"apologies"`
	Substitutions []Substitution `json:"substitutions"`
	// Absent are voting members who neither attended nor sent apologies, and for whom no
	// substitute sat.
	Absent []Person `json:"absent"`
	// Declarations are the interests declared, at the start and on items, in the order
	// made.
	Declarations []Declaration `json:"declarations"`
	// Items are the items of business in the order taken, then any not taken.
	Items        []Item        `json:"items"`
	Adjournments []Adjournment `json:"adjournments"`
	// Log is the meeting's vote log as its final signed checkpoint has it; nil when the
	// meeting held no vote.
	Log *Log `json:"log,omitempty"`
}

// Meeting is what the minutes say of the meeting itself.
type Meeting struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	Council   Body       `json:"council"`
	Committee Body       `json:"committee"`
	Profile   string     `json:"profile"` // the rules profile
	StartsAt  time.Time  `json:"starts_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Location  string     `json:"location"`
	// Chair is who presided: the chair if present, else the vice-chair.
	Chair *Person `json:"chair,omitempty"`
	// Membership is the committee's voting membership; Quorum the number needed.
	Membership int `json:"membership"`
	Quorum     int `json:"quorum"`
}

// Body is a council or committee.
type Body struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Person is someone the minutes name.
type Person struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title,omitempty"` // "Cllr", "Head of Planning"
	Party string `json:"party,omitempty"`
}

// Display is the person's name as the minutes print it, with an honorific title such
// as "Cllr" before it (a job title such as "Head of Planning" is not).
func (p Person) Display() string {
	if !honorifics[strings.TrimSuffix(p.Title, ".")] || strings.HasPrefix(p.Name, p.Title+" ") {
		return p.Name
	}
	return p.Title + " " + p.Name
}

var honorifics = map[string]bool{
	"Cllr": true, "Councillor": true, "County Councillor": true, "Mr": true, "Mrs": true, "Ms": true,
	"Miss": true, "Mx": true, "Dr": true, "Prof": true, "Sir": true, "Dame": true, "Lord": true,
	"Lady": true, "Rev": true, "Revd": true, "M": true, "Mme": true, "Mlle": true,
}

// Attendee is someone who attended, with each stretch of their attendance.
type Attendee struct {
	Person
	// Role is their committee role (chair, vice_chair, member, substitute), or their
	// council role (clerk, officer, councillor) if they are not on the committee.
	Role string `json:"role"`
	// SubstituteFor is the member a substitute sat for.
	SubstituteFor *Person    `json:"substitute_for,omitempty"`
	Arrived       time.Time  `json:"arrived"`
	Left          *time.Time `json:"left,omitempty"`
	Stretches     []Stretch  `json:"stretches"`
}

// Stretch is a continuous stretch of attendance in one mode.
type Stretch struct {
	Mode agenda.AttendanceMode `json:"mode"`
	// ProxyHolder is who held the proxy of a member represented by proxy.
	ProxyHolder *Person    `json:"proxy_holder,omitempty"`
	From        time.Time  `json:"from"`
	To          *time.Time `json:"to,omitempty"`
}

// Modes returns the attendance modes of the stretches, each once, in order.
func (a Attendee) Modes() []agenda.AttendanceMode {
	var out []agenda.AttendanceMode
	for _, s := range a.Stretches {
		if len(out) == 0 || out[len(out)-1] != s.Mode {
			out = append(out, s.Mode)
		}
	}
	return out
}

// Apology is a member's apology for absence.
type Apology struct {
	Person
	Reason string `json:"reason,omitempty"`
	// SubstitutedBy is who sat in the member's place.
	SubstitutedBy *Person `json:"substituted_by,omitempty"`
}

// Substitution is a substitute sitting for a member.
type Substitution struct {
	Substitute Person `json:"substitute"`
	For        Person `json:"for"`
}

// Declaration is a declaration of interest: at the start of the meeting, or on an item.
type Declaration struct {
	Person
	ItemID       int64                  `json:"item_id,omitempty"`
	ItemNumber   string                 `json:"item_number,omitempty"`
	Kind         agenda.DeclarationKind `json:"kind"`
	Description  string                 `json:"description"`
	Withdraws    bool                   `json:"withdraws"`
	Dispensation string                 `json:"dispensation,omitempty"`
	At           time.Time              `json:"at"`
	// Redacted is true when the detail of a declaration on exempt business is withheld.
	Redacted bool `json:"redacted,omitempty"`
}

// Item is one item of business.
type Item struct {
	ID              int64           `json:"id"`
	Number          string          `json:"number"`
	Title           string          `json:"title"`
	Kind            agenda.ItemKind `json:"kind"`
	ExemptParagraph int             `json:"exempt_paragraph,omitempty"`
	// Taken says the meeting took the item; an item not taken is listed last.
	Taken       bool       `json:"taken"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Description string     `json:"description,omitempty"`
	// Notes is the clerk's minute of the discussion; Decision the decision as minuted.
	Notes    string `json:"notes"`
	Decision string `json:"decision"`
	// NotesEdited and DecisionEdited say the clerk edited the text in the minutes; a
	// redraft keeps edited text.
	NotesEdited    bool `json:"notes_edited,omitempty"`
	DecisionEdited bool `json:"decision_edited,omitempty"`
	// Exclusion is the resolution to exclude the public for the item.
	Exclusion *Exclusion `json:"exclusion,omitempty"`
	Speakers  []Speaker  `json:"speakers"`
	Motions   []Motion   `json:"motions"`
	// Votes are the votes on the item that were not on one of its motions.
	Votes []Vote `json:"votes"`
	// Redacted is true when the detail of exempt business is withheld: only the
	// number, title and the resolution to exclude the public are shown.
	Redacted bool `json:"redacted,omitempty"`
}

// Exempt reports whether the item is exempt business.
func (it *Item) Exempt() bool { return it.Kind == agenda.Exempt }

// Exclusion is the resolution to exclude the public (LGA 1972 s.100A(4)).
type Exclusion struct {
	// Paragraph is the Schedule 12A paragraph relied on.
	Paragraph  int        `json:"paragraph"`
	At         time.Time  `json:"at"`
	Readmitted *time.Time `json:"readmitted,omitempty"`
	Reason     string     `json:"reason,omitempty"`
}

// Speaker is a member of the public who spoke on an item.
type Speaker struct {
	Name         string                 `json:"name"`
	Capacity     agenda.SpeakerCapacity `json:"capacity"`
	Organisation string                 `json:"organisation,omitempty"`
}

// Motion is a motion, or an amendment to one, with the votes on it.
type Motion struct {
	ID       int64               `json:"id"`
	AmendsID int64               `json:"amends_id,omitempty"`
	Text     string              `json:"text"`
	Proposer *Person             `json:"proposer,omitempty"`
	Seconder *Person             `json:"seconder,omitempty"`
	Status   agenda.MotionStatus `json:"status"`
	At       time.Time           `json:"at"`
	Votes    []Vote              `json:"votes"`
}

// Amendment reports whether the motion amends another.
func (mo *Motion) Amendment() bool { return mo.AmendsID != 0 }

// Vote is one poll: how it was put, who voted how, and the result.
type Vote struct {
	PollID   int64         `json:"poll_id"`
	ItemID   int64         `json:"item_id"`
	MotionID int64         `json:"motion_id,omitempty"`
	Question string        `json:"question"`
	Method   voting.Method `json:"method"`
	// Recorded is a recorded (named) vote: the minutes print each member's vote.
	Recorded bool       `json:"recorded"`
	OpenedAt time.Time  `json:"opened_at"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	// Membership is the committee's voting membership, Quorum the number needed, and
	// PresentAtOpen and PresentAtClose those counted towards it.
	Membership     int      `json:"membership"`
	Quorum         int      `json:"quorum"`
	PresentAtOpen  int      `json:"present_at_open"`
	PresentAtClose int      `json:"present_at_close"`
	Options        []string `json:"options"`
	// Counts are the votes per option, in option order, the casting vote not included.
	Counts []voting.OptionCount `json:"counts"`
	// Absent counts the seats whose holder was not present when the vote opened;
	// NotVoting those present who did not vote.
	Absent    int            `json:"absent"`
	NotVoting int            `json:"not_voting"`
	Outcome   voting.Outcome `json:"outcome"`
	Winner    string         `json:"winner,omitempty"`
	Presiding *Person        `json:"presiding,omitempty"`
	// Casting is the presiding member's casting vote on an equality.
	Casting *CastingVote `json:"casting,omitempty"`
	// Preponderant is the presiding member's own vote where it decided an equality.
	Preponderant string `json:"preponderant,omitempty"`
	// Equality is an equality of votes that stood, nothing breaking it, and why
	// (Resolution); nil where there was none, or a casting or preponderant vote
	// decided it.
	Equality *voting.Equality `json:"equality,omitempty"`
	// NoCasting records that the casting vote did not come: who said so, and why.
	NoCasting *NoCastingVote `json:"no_casting_vote,omitempty"`
	// Members holds one entry per seat (the member, or their substitute) and anyone
	// else who voted, by name.
	Members   []MemberVote `json:"members"`
	Overrides []Override   `json:"overrides,omitempty"`
	// OpeningIndex and ClosingIndex are the log entries of the poll's opening and
	// closing.
	OpeningIndex int64  `json:"opening_index"`
	ClosingIndex *int64 `json:"closing_index,omitempty"`
}

// Count returns the votes for option.
func (v *Vote) Count(option string) int {
	for _, c := range v.Counts {
		if c.Option == option {
			return c.Count
		}
	}
	return 0
}

// Carried reports whether the vote passed: a motion carried, or a choice decided.
func (v *Vote) Carried() bool {
	return v.Outcome == voting.OutcomeCarried || v.Outcome == voting.OutcomeDecided
}

// MemberVote is one member's part in a vote.
type MemberVote struct {
	Person
	Role string `json:"role"`
	// Mode is how the member attended when the vote opened; empty if absent.
	Mode agenda.AttendanceMode `json:"mode,omitempty"`
	// Choice is the option the member voted for; empty if they did not vote.
	Choice string `json:"choice,omitempty"`
	Absent bool   `json:"absent,omitempty"`
	// Reason says why a member present did not vote, when the rules barred them.
	Reason     voting.Reason `json:"reason,omitempty"`
	RecordedBy *Person       `json:"recorded_by,omitempty"` // the clerk who recorded the vote
	Proxy      *Person       `json:"proxy,omitempty"`       // who cast it holding the member's proxy
	CastAt     *time.Time    `json:"cast_at,omitempty"`
	// LogIndex is the log entry of the ballot that counted.
	LogIndex *int64 `json:"log_index,omitempty"`
}

// Voted reports whether the member voted.
func (mv *MemberVote) Voted() bool { return mv.Choice != "" }

// CastingVote is the casting vote of the member presiding.
type CastingVote struct {
	Person
	Choice     string    `json:"choice"`
	RecordedBy *Person   `json:"recorded_by,omitempty"`
	CastAt     time.Time `json:"cast_at"`
	LogIndex   int64     `json:"log_index"`
}

// NoCastingVote records that the member presiding gave no casting vote on an
// equality: they left, or declined to use it.
type NoCastingVote struct {
	// Person is who recorded it: the member presiding, the chair or a clerk.
	Person
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	LogIndex int64     `json:"log_index"`
}

// Override is the chair's decision to let a member vote who was not present for the
// whole item, with its reason.
type Override struct {
	Member Person `json:"member"`
	Reason string `json:"reason"`
}

// Adjournment is an adjournment of the meeting and its resumption.
type Adjournment struct {
	At      time.Time  `json:"at"`
	Resumed *time.Time `json:"resumed,omitempty"`
}

// Log is the meeting's vote log as its final signed checkpoint has it: anyone can
// check the published record against it with `chamber verify`.
type Log struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
	// Checkpoint is the signed checkpoint (a C2SP signed note).
	Checkpoint string `json:"checkpoint"`
	Size       int64  `json:"size"`
	RootHash   string `json:"root_hash"`
}

// VoteRef is a vote with the item and motion it is on, as the exports list them.
type VoteRef struct {
	Item   *Item
	Motion *Motion // nil for a vote on the item
	Vote   *Vote
}

// Votes returns every vote in the minutes, item by item, each item's in the order
// taken.
func (d *Document) Votes() []VoteRef {
	var out []VoteRef
	for i := range d.Items {
		out = append(out, d.Items[i].VoteRefs()...)
	}
	return out
}

// VoteRefs returns the votes on the item and its motions, in the order taken.
func (it *Item) VoteRefs() []VoteRef {
	var refs []VoteRef
	for j := range it.Motions {
		mo := &it.Motions[j]
		for k := range mo.Votes {
			refs = append(refs, VoteRef{Item: it, Motion: mo, Vote: &mo.Votes[k]})
		}
	}
	for k := range it.Votes {
		refs = append(refs, VoteRef{Item: it, Vote: &it.Votes[k]})
	}
	slices.SortStableFunc(refs, func(a, b VoteRef) int { return cmp.Compare(a.Vote.OpeningIndex, b.Vote.OpeningIndex) })
	return refs
}

// Item returns the item with the id, or nil.
func (d *Document) Item(id int64) *Item {
	for i := range d.Items {
		if d.Items[i].ID == id {
			return &d.Items[i]
		}
	}
	return nil
}

// ItemDeclarations returns the declarations made on the item.
func (d *Document) ItemDeclarations(itemID int64) []Declaration {
	var out []Declaration
	for _, dc := range d.Declarations {
		if dc.ItemID == itemID {
			out = append(out, dc)
		}
	}
	return out
}
