package minutes

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// This file holds the words and numbers that every export of the minutes prints, so
// that the HTML page, the Markdown and the PDF say the same things.

var zones sync.Map // name → *time.Location

// location returns the document's time zone, UTC if it cannot be loaded.
func (d *Document) location() *time.Location {
	name := d.Zone
	if name == "" {
		return time.UTC
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, l)
	return l
}

func (d *Document) local(t time.Time) time.Time { return t.In(d.location()) }

// date prints a day as minutes do: "Wednesday 6 May 2026".
func (d *Document) date(t time.Time) string { return d.local(t).Format("Monday 2 January 2006") }

// clock prints a time of day: "18:30".
func (d *Document) clock(t time.Time) string { return d.local(t).Format("15:04") }

func (d *Document) clockPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return d.clock(*t)
}

// dateTime prints a moment: "6 May 2026 at 18:30".
func (d *Document) dateTime(t time.Time) string { return d.local(t).Format("2 January 2006 at 15:04") }

// iso prints a moment for machines, in the document's zone: "2026-05-06T18:30:00+01:00".
func (d *Document) iso(t time.Time) string { return d.local(t).Format(time.RFC3339) }

// zoneNote says which time the minutes give.
func (d *Document) zoneNote() string {
	if d.Zone == "" || d.Zone == "UTC" {
		return "Times are given in UTC."
	}
	return "Times are local time (" + d.Zone + ")."
}

// span prints the time the meeting sat: "18:30 to 21:05".
func (d *Document) span() string {
	m := d.Meeting
	switch {
	case m.StartedAt != nil && m.ClosedAt != nil:
		return d.clock(*m.StartedAt) + " to " + d.clock(*m.ClosedAt)
	case m.StartedAt != nil:
		return "from " + d.clock(*m.StartedAt)
	}
	return "scheduled for " + d.clock(m.StartsAt)
}

// title is the minutes' heading: "Minutes of the Planning Committee".
func (m *Minutes) title() string {
	name := m.Meeting.Committee.Name
	if name == "" {
		name = m.Meeting.Title
	}
	if strings.HasPrefix(strings.ToLower(name), "the ") {
		return "Minutes of " + name
	}
	return "Minutes of the " + name
}

// statusLine says where this version stands.
func (m *Minutes) statusLine() string {
	var b strings.Builder
	switch m.Status {
	case Draft:
		b.WriteString("Draft minutes, not yet approved.")
	case Approved:
		b.WriteString("Approved minutes, not yet published.")
	case Published:
		b.WriteString("Published minutes")
		if m.Published != nil {
			b.WriteString(", " + m.date(m.Published.At))
		}
		b.WriteString(".")
	}
	if m.Version > 1 {
		fmt.Fprintf(&b, " Version %d", m.Version)
		if m.Correction != nil {
			fmt.Fprintf(&b, ", correcting version %d", m.Correction.Supersedes)
		}
		b.WriteString(".")
	}
	if m.View == PublicView {
		b.WriteString(" Public version: exempt business is shown by its title only.")
	}
	return b.String()
}

// approvalText says whether and where the minutes were approved.
func (m *Minutes) approvalText() string {
	a := m.Approval
	if a == nil {
		return "These minutes have not yet been approved."
	}
	return fmt.Sprintf("Approved as a correct record at the meeting of %s on %s, and signed by %s, %s.",
		theMeeting(a.Meeting.Title), m.date(a.Meeting.StartsAt), a.By.Display(), m.dateTime(a.At))
}

// quorumText states the rules and the quorum.
func (d *Document) quorumText() string {
	return fmt.Sprintf("%d of %d voting members (rules: %s)", d.Meeting.Quorum, d.Meeting.Membership, d.Meeting.Profile)
}

var roleLabels = map[string]string{
	string(agenda.Chair): "Chair", string(agenda.ViceChair): "Vice-chair", string(agenda.Member): "Member",
	string(agenda.Substitute): "Substitute", string(agenda.RoleClerk): "Clerk", string(agenda.RoleOfficer): "Officer",
	string(agenda.RoleCouncillor): "Councillor",
}

func roleLabel(r string) string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return r
}

// officerRole prints an officer's job title, or their role.
func officerRole(a Attendee) string {
	if a.Title != "" && !honorifics[strings.TrimSuffix(a.Title, ".")] {
		return a.Title
	}
	return roleLabel(a.Role)
}

var modeLabels = map[agenda.AttendanceMode]string{
	agenda.InRoom:          "in the room",
	agenda.RemoteVoting:    "remotely, with a vote",
	agenda.RemoteNonVoting: "remotely, without a vote",
	agenda.ByProxy:         "by proxy",
}

func modeLabel(m agenda.AttendanceMode) string {
	if l, ok := modeLabels[m]; ok {
		return l
	}
	return string(m)
}

// stretches prints an attendee's attendance: "in the room 18:30–19:05, 19:40–21:05".
func (d *Document) stretches(a Attendee) string {
	var parts []string
	var last agenda.AttendanceMode
	for i, s := range a.Stretches {
		span := d.clock(s.From) + "–" + d.clockPtr(s.To)
		if i == 0 || s.Mode != last {
			what := modeLabel(s.Mode)
			if s.ProxyHolder != nil {
				what += " (" + s.ProxyHolder.Display() + ")"
			}
			parts = append(parts, what+" "+span)
		} else {
			parts = append(parts, span)
		}
		last = s.Mode
	}
	return upperFirst(strings.Join(parts, ", "))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// interestLabel names a kind of interest: "Prejudicial interest".
func interestLabel(k agenda.DeclarationKind) string { return k.Label() }

// declarationDetail prints what was declared.
func declarationDetail(dc Declaration) string {
	if dc.Redacted {
		return "(exempt business)"
	}
	s := dc.Description
	if dc.Dispensation != "" {
		s += " Dispensation: " + dc.Dispensation + "."
	}
	return s
}

func declarationItem(dc Declaration) string {
	if dc.ItemID == 0 {
		return "General"
	}
	return "Item " + dc.ItemNumber
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

var capacityLabels = map[agenda.SpeakerCapacity]string{
	agenda.Objector: "objector", agenda.Applicant: "applicant", agenda.Agent: "agent for the applicant",
	agenda.Supporter: "supporter", agenda.ParishCouncil: "for the community or parish council",
	agenda.WardMember: "ward member", agenda.OtherSpeaker: "speaker",
}

// speakerText prints a public speaker: "Mrs Glenys Parry, objector (Heol y Felin Residents)".
func speakerText(sp Speaker) string {
	s := sp.Name + ", " + capacityLabels[sp.Capacity]
	if capacityLabels[sp.Capacity] == "" {
		s = sp.Name + ", " + string(sp.Capacity)
	}
	if sp.Organisation != "" {
		s += " (" + sp.Organisation + ")"
	}
	return s
}

// motionHeading names a motion: "Motion 3" or "Amendment 4 (to motion 3)".
func motionHeading(mo *Motion) string {
	if mo.Amendment() {
		return fmt.Sprintf("Amendment %d (to motion %d)", mo.ID, mo.AmendsID)
	}
	return fmt.Sprintf("Motion %d", mo.ID)
}

// voteHeading names a vote by what it was on: "Vote on amendment 2".
func voteHeading(ref VoteRef) string {
	mo := ref.Motion
	switch {
	case mo == nil:
		return "Vote"
	case mo.Amendment():
		return fmt.Sprintf("Vote on amendment %d", mo.ID)
	}
	return fmt.Sprintf("Vote on motion %d", mo.ID)
}

// theMeeting names a meeting in a sentence: "the Planning Committee".
func theMeeting(title string) string {
	if strings.HasPrefix(strings.ToLower(title), "the ") {
		return title
	}
	return "the " + title
}

// moverText prints who moved and seconded a motion.
func moverText(mo *Motion) string {
	var parts []string
	if mo.Proposer != nil {
		parts = append(parts, "Proposed by "+mo.Proposer.Display())
	}
	if mo.Seconder != nil {
		if len(parts) == 0 {
			parts = append(parts, "Seconded by "+mo.Seconder.Display())
		} else {
			parts = append(parts, "seconded by "+mo.Seconder.Display())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + "."
}

var motionStatusLabels = map[agenda.MotionStatus]string{
	agenda.Proposed: "Proposed, not seconded", agenda.Seconded: "Seconded, not put to the vote",
	agenda.Carried: "Carried", agenda.Lost: "Lost", agenda.Withdrawn: "Withdrawn", agenda.Fallen: "Fell",
}

func motionStatus(s agenda.MotionStatus) string {
	if l, ok := motionStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

var methodLabels = map[voting.Method]string{
	voting.Majority:  "simple majority of those voting",
	voting.TwoThirds: "two-thirds majority of those voting",
	voting.Absolute:  "majority of the whole membership",
	voting.Plurality: "most votes",
}

func methodLabel(m voting.Method) string {
	if l, ok := methodLabels[m]; ok {
		return l
	}
	return string(m)
}

var optionLabels = map[string]string{voting.OptionFor: "For", voting.OptionAgainst: "Against", voting.OptionAbstain: "Abstained"}

// optionLabel prints an option key: "For", or a plurality option as given.
func optionLabel(o string) string {
	if l, ok := optionLabels[o]; ok {
		return l
	}
	return o
}

// choiceLabel prints a member's part in a vote.
func choiceLabel(mv MemberVote) string {
	switch {
	case mv.Voted():
		return optionLabel(mv.Choice)
	case mv.Absent:
		return "Absent"
	case mv.Reason != "":
		return "Did not vote (" + reasonLabel(mv.Reason) + ")"
	}
	return "Did not vote"
}

var reasonLabels = map[voting.Reason]string{
	voting.ReasonNotMember:         "not a member of the committee",
	voting.ReasonNotSubstituting:   "substitute not sitting for a member",
	voting.ReasonSubstituted:       "a substitute sat in their place",
	voting.ReasonAbsent:            "absent",
	voting.ReasonRemote:            "remote members may not vote",
	voting.ReasonNonVotingMode:     "attending remotely without a vote",
	voting.ReasonUnknownMode:       "attendance mode not recognised",
	voting.ReasonProxiesNotAllowed: "proxies not allowed",
	voting.ReasonProxyHolderAbsent: "proxy holder not present",
	voting.ReasonTooManyProxies:    "proxy holder holds too many proxies",
	voting.ReasonInterest:          "declared interest",
	voting.ReasonNotThroughout:     "not present for the whole item",
	voting.ReasonNotProxyHolder:    "not the proxy holder",
	voting.ReasonNotAtOpening:      "not eligible when the vote opened",
}

func reasonLabel(r voting.Reason) string {
	if l, ok := reasonLabels[r]; ok {
		return l
	}
	return string(r)
}

// recordedByText says who recorded a vote: the member's own device, or a clerk.
func recordedByText(mv MemberVote) string {
	switch {
	case !mv.Voted():
		return ""
	case mv.RecordedBy != nil:
		return "Clerk (" + mv.RecordedBy.Display() + ")"
	case mv.Proxy != nil:
		return "Proxy (" + mv.Proxy.Display() + ")"
	}
	return "Member's device"
}

// voteGroup is the members who voted one way, for a recorded vote.
type voteGroup struct {
	Label string
	Names []string
}

// groupVotes lists a recorded vote's members by how they voted, option by option,
// then absent and not voting, as minutes print a recorded vote; and names whose votes
// a clerk recorded, or a proxy holder cast.
func groupVotes(v *Vote) (groups []voteGroup, byClerk, byProxy []string) {
	for _, o := range v.Options {
		g := voteGroup{Label: optionLabel(o)}
		for _, mv := range v.Members {
			if mv.Choice == o {
				g.Names = append(g.Names, mv.Display())
			}
		}
		groups = append(groups, g)
	}
	absent, notVoting := voteGroup{Label: "Absent"}, voteGroup{Label: "Present, not voting"}
	for _, mv := range v.Members {
		switch {
		case mv.Absent:
			absent.Names = append(absent.Names, mv.Display())
		case !mv.Voted():
			name := mv.Display()
			if mv.Reason != "" {
				name += " (" + reasonLabel(mv.Reason) + ")"
			}
			notVoting.Names = append(notVoting.Names, name)
		case mv.RecordedBy != nil:
			byClerk = append(byClerk, mv.Display())
		case mv.Proxy != nil:
			byProxy = append(byProxy, mv.Display()+" (by "+mv.Proxy.Display()+")")
		}
	}
	return append(groups, absent, notVoting), byClerk, byProxy
}

// countRows are the rows of a vote's table of counts: each option, then absent and
// not voting.
func countRows(v *Vote) [][2]string {
	var rows [][2]string
	for _, c := range v.Counts {
		rows = append(rows, [2]string{optionLabel(c.Option), strconv.Itoa(c.Count)})
	}
	rows = append(rows, [2]string{"Absent", strconv.Itoa(v.Absent)}, [2]string{"Present, not voting", strconv.Itoa(v.NotVoting)})
	return rows
}

// resultText states a vote's result as the minutes do.
func resultText(v *Vote) string {
	var s string
	switch v.Outcome {
	case voting.OutcomeCarried:
		s = "Carried"
	case voting.OutcomeLost:
		s = "Lost"
	case voting.OutcomeDecided:
		s = "Decided: " + optionLabel(v.Winner)
	case voting.OutcomeTied:
		s = "Equality of votes, awaiting the casting vote"
	case voting.OutcomeUndecided:
		s = "No decision"
	case voting.OutcomeInquorate:
		s = "No decision: the meeting was not quorate"
	default:
		s = "Not closed"
	}
	return s + "."
}

// castingText states the casting or preponderant vote, if one decided the vote, or
// why an equality stood.
func castingText(v *Vote) string {
	if c := v.Casting; c != nil {
		s := fmt.Sprintf("There being an equality of votes, %s, presiding, gave a casting vote: %s.", c.Display(), strings.ToLower(optionLabel(c.Choice)))
		if c.RecordedBy != nil {
			s += " Recorded by " + c.RecordedBy.Display() + "."
		}
		return s
	}
	if v.Preponderant != "" && v.Presiding != nil {
		return fmt.Sprintf("There being an equality of votes, the vote of %s, presiding, prevailed: %s.", v.Presiding.Display(), strings.ToLower(optionLabel(v.Preponderant)))
	}
	if eq := v.Equality; eq != nil {
		s := fmt.Sprintf("There being an equality of votes, %s.", eq.Resolution.Text())
		if n := v.NoCasting; n != nil {
			s += fmt.Sprintf(" Recorded by %s: %s", n.Display(), sentence(n.Reason))
		}
		return s
	}
	return ""
}

// sentence ends text with a full stop, unless it ends with one already (or another
// closing mark).
func sentence(text string) string {
	text = strings.TrimSpace(text)
	if strings.HasSuffix(text, ".") || strings.HasSuffix(text, "!") || strings.HasSuffix(text, "?") {
		return text
	}
	return text + "."
}

// voteFacts states how a vote was put and the quorum.
func (d *Document) voteFacts(v *Vote) string {
	s := fmt.Sprintf("Decided by %s. Opened at %s", methodLabel(v.Method), d.clock(v.OpenedAt))
	if v.ClosedAt != nil {
		s += ", closed at " + d.clock(*v.ClosedAt)
	}
	s += fmt.Sprintf("; quorum %d, present %d at the opening", v.Quorum, v.PresentAtOpen)
	if v.ClosedAt != nil {
		s += fmt.Sprintf(" and %d at the close", v.PresentAtClose)
	}
	s += "."
	if v.Recorded {
		s += " A recorded vote: each member's vote is minuted."
	}
	return s
}

// exclusionText is the resolution to exclude the public.
func (d *Document) exclusionText(it *Item) string {
	e := it.Exclusion
	if e == nil {
		return ""
	}
	s := fmt.Sprintf("At %s, RESOLVED that under section 100A(4) of the Local Government Act 1972 the public be excluded "+
		"from the meeting for this item, on the grounds that it involves the likely disclosure of exempt information as "+
		"defined in paragraph %d of Schedule 12A to the Act", d.clock(e.At), e.Paragraph)
	if desc := paragraphs12A[e.Paragraph]; desc != "" {
		s += " (" + desc + ")"
	}
	s += "."
	if e.Readmitted != nil {
		s += " The public were readmitted at " + d.clock(*e.Readmitted) + "."
	}
	return s
}

// paragraphs12A describe the categories of exempt information: Schedule 12A Part 1
// (England, paragraphs 1–7) and Part 4 (Wales, paragraphs 12–18).
var paragraphs12A = map[int]string{
	1:  "information relating to any individual",
	2:  "information which is likely to reveal the identity of an individual",
	3:  "information relating to the financial or business affairs of any particular person, including the authority",
	4:  "information relating to consultations or negotiations in connection with a labour relations matter",
	5:  "information in respect of which a claim to legal professional privilege could be maintained in legal proceedings",
	6:  "information which reveals that the authority proposes to give a notice imposing requirements on a person, or to make an order or direction",
	7:  "information relating to action taken or to be taken in connection with the prevention, investigation or prosecution of crime",
	12: "information relating to a particular individual",
	13: "information likely to reveal the identity of an individual",
	14: "information relating to the financial or business affairs of any particular person, including the authority",
	15: "information relating to consultations or negotiations in connection with a labour relations matter",
	16: "information in respect of which a claim to legal professional privilege could be maintained in legal proceedings",
	17: "information which reveals that the authority proposes to give a notice imposing requirements on a person, or to make an order or direction",
	18: "information relating to action taken or to be taken in connection with the prevention, investigation or prosecution of crime",
}

// redactedText stands in for exempt business in the public view.
const redactedText = "This item was taken in private session as exempt business. Its minute is not published."

// notTakenText stands for an item the meeting did not reach.
const notTakenText = "This item was not taken at the meeting."

// withdrawalText states that a member withdrew for an item.
func withdrawalText(dc Declaration) string {
	kind := strings.ToLower(interestLabel(dc.Kind))
	article := "a"
	if strings.IndexAny(kind, "aeiou") == 0 {
		article = "an"
	}
	return fmt.Sprintf("%s declared %s %s and withdrew from the meeting for this item.", dc.Display(), article, kind)
}

// paras splits text into paragraphs at blank lines, each with its lines.
func paras(text string) [][]string {
	var out [][]string
	for _, p := range strings.Split(strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n"), "\n\n") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		var lines []string
		for _, l := range strings.Split(p, "\n") {
			lines = append(lines, strings.TrimRight(l, " \t"))
		}
		out = append(out, lines)
	}
	return out
}

// itemHeading is an item's heading: "4. 25/0412/FUL — Land at Heol y Felin".
func itemHeading(it *Item) string {
	if it.Number == "" {
		return it.Title
	}
	return strings.TrimSuffix(it.Number, ".") + ". " + it.Title
}

// verifyText explains the checkpoint, quoting the command with quote.
func verifyText(quote string) string {
	return "Every vote in these minutes is in the meeting's signed vote log. The published meeting record " +
		"can be checked against this checkpoint, offline and without trusting the council's server, with " +
		quote + "chamber verify" + quote + "."
}
