package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/voting"
)

// The public pages: the list of meetings, each meeting's page and its minutes. They are
// rendered on the server from the records at the time of the request and are read
// without signing in and without JavaScript; the meeting page's live section is where
// a script, where it runs, follows the meeting as it happens.
//
// Exempt business (Schedule 12A) shows on these pages by its number and title and the
// resolution to exclude the public, and nothing else; the committee's members and the
// council's staff, signed in, also see its detail, marked as not for publication.

// liveStatus is where a meeting stands, in words.
type liveStatus struct {
	// Key is a stable name for styling: scheduled, in_progress, private, adjourned,
	// closed.
	Key, Label string
}

func statusOf(m agenda.Meeting) liveStatus {
	switch m.Status {
	case agenda.InProgress:
		if m.Session == agenda.PrivateSession {
			return liveStatus{"private", "In private session"}
		}
		return liveStatus{"in_progress", "In progress"}
	case agenda.Adjourned:
		return liveStatus{"adjourned", "Adjourned"}
	case agenda.Closed:
		return liveStatus{"closed", "Closed"}
	}
	return liveStatus{"scheduled", "Scheduled"}
}

// Meeting list.

// listPageSize is how many meetings each part of the meetings page lists.
const listPageSize = 20

type meetingListRow struct {
	meetingRow
	Status liveStatus
}

type meetingsData struct {
	Upcoming, Past []meetingListRow
	// NextUpcoming and NextPast link to the next page of each list; empty for none.
	NextUpcoming, NextPast string
	// First links back to the first page when this is not it.
	First bool
}

// meetingsPage lists the meetings the visitor may see: those from today on, soonest
// first, and those before, latest first, each a page at a time.
func (s *Server) meetingsPage(c *call) error {
	ctx := c.r.Context()
	q := c.r.URL.Query()
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	up, err := s.svc.ListMeetings(ctx, c.actor, agenda.MeetingQuery{From: today, Cursor: q.Get("upcoming"), Limit: listPageSize})
	if err != nil {
		return err
	}
	before := meetingCursor{At: today}
	if v := q.Get("before"); v != "" {
		if before, err = parseMeetingCursor(v); err != nil {
			return &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "before", Message: "is not a cursor this server gave"}}}
		}
	}
	past, more, err := s.pastMeetings(ctx, c.actor, before, listPageSize)
	if err != nil {
		return err
	}
	d := meetingsData{First: q.Has("upcoming") || q.Has("before")}
	for _, r := range s.committeeNames(c, up.Items) {
		d.Upcoming = append(d.Upcoming, meetingListRow{meetingRow: r, Status: statusOf(r.Meeting)})
	}
	for _, r := range s.committeeNames(c, past) {
		d.Past = append(d.Past, meetingListRow{meetingRow: r, Status: statusOf(r.Meeting)})
	}
	if up.Next != "" {
		v := url.Values{"upcoming": {up.Next}}
		if q.Has("before") {
			v.Set("before", q.Get("before"))
		}
		d.NextUpcoming = "/meetings?" + v.Encode()
	}
	if more {
		last := past[len(past)-1]
		v := url.Values{"before": {meetingCursor{At: last.StartsAt, ID: last.ID}.String()}}
		if q.Has("upcoming") {
			v.Set("upcoming", q.Get("upcoming"))
		}
		d.NextPast = "/meetings?" + v.Encode()
	}
	s.render(c.w, c.r, http.StatusOK, "meetings", c.actor.Name, d)
	return nil
}

// meetingCursor is where a list of past meetings, latest first, goes on from: the
// meetings that started before At, or at At with a smaller id.
type meetingCursor struct {
	At time.Time
	ID int64
}

func (mc meetingCursor) String() string {
	return strconv.FormatInt(mc.At.UnixMicro(), 10) + "." + strconv.FormatInt(mc.ID, 10)
}

func parseMeetingCursor(s string) (meetingCursor, error) {
	at, id, ok := strings.Cut(s, ".")
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n < 0 {
		return meetingCursor{}, fmt.Errorf("bad meeting cursor %q", s)
	}
	return meetingCursor{At: time.UnixMicro(us).UTC(), ID: n}, nil
}

func (mc meetingCursor) after(m agenda.Meeting) bool {
	return m.StartsAt.Before(mc.At) || (m.StartsAt.Equal(mc.At) && m.ID < mc.ID)
}

// pastMeetings returns up to n meetings the actor may see that come before the cursor,
// latest first, and whether there are more. The agenda lists meetings soonest first,
// so it reads windows of time back from the cursor, each twice as long as the one
// before, until it has enough or has passed the earliest meeting.
func (s *Server) pastMeetings(ctx context.Context, actor agenda.Actor, before meetingCursor, n int) ([]agenda.Meeting, bool, error) {
	first, err := s.svc.ListMeetings(ctx, actor, agenda.MeetingQuery{Limit: 1})
	if err != nil || len(first.Items) == 0 {
		return nil, false, err
	}
	floor := first.Items[0].StartsAt
	var out []agenda.Meeting
	end := before.At.Add(time.Microsecond) // meetings at the cursor's time with a smaller id
	span := 31 * 24 * time.Hour
	for len(out) <= n && end.After(floor) {
		start := end.Add(-span)
		if start.Before(floor) {
			start = floor
		}
		window, err := s.allMeetings(ctx, actor, agenda.MeetingQuery{From: start, To: end})
		if err != nil {
			return nil, false, err
		}
		for _, m := range slices.Backward(window) {
			if before.after(m) {
				out = append(out, m)
			}
		}
		end = start
		if span < 50*365*24*time.Hour {
			span *= 2
		}
	}
	if len(out) > n {
		return out[:n], true, nil
	}
	return out, false, nil
}

// allMeetings reads every page of a list of meetings.
func (s *Server) allMeetings(ctx context.Context, actor agenda.Actor, q agenda.MeetingQuery) ([]agenda.Meeting, error) {
	q.Limit = agenda.MaxPageSize
	var out []agenda.Meeting
	for {
		page, err := s.svc.ListMeetings(ctx, actor, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}

// The meeting page.

// agendaRow is one item as the meeting page shows it. An exempt item carries its
// number, title, status and Schedule 12A paragraph only, unless Restricted: the
// reader may see exempt business.
type agendaRow struct {
	ID          int64
	Number      string
	Title       string
	Kind        agenda.ItemKind
	Status      agenda.ItemStatus
	Current     bool
	Exempt      bool
	Paragraph   int
	Restricted  bool
	Description string
	Papers      []agenda.Paper
	Decision    string
	Motions     []motionRow
	Votes       []voteRow
}

type motionRow struct {
	Text      string
	Amendment bool
	Status    string
}

// voteRow is a vote's result, in words.
type voteRow struct {
	Question string
	Open     bool
	Outcome  string
	Counts   string
	// Why says, where an equality of votes stood, why nothing broke it; Reason is the
	// reason recorded when the member presiding gave no casting vote.
	Why, Reason string
}

type meetingPageData struct {
	Meeting   agenda.Meeting
	Committee string
	Status    liveStatus
	Items     []agendaRow
	Current   *agendaRow
	// Minutes is the latest published version of the minutes; 0 for none.
	Minutes int
	// Calendar is the address of the council's iCalendar feed; empty when not served.
	Calendar string
}

func (s *Server) meetingPage(c *call) error {
	id, err := c.id("meeting")
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	m, err := s.svc.GetMeeting(ctx, c.actor, id)
	if err != nil {
		return err
	}
	items, err := s.svc.ListItems(ctx, c.actor, id)
	if err != nil {
		return err
	}
	motions, err := s.svc.ListMotions(ctx, c.actor, id)
	if err != nil {
		return err
	}
	var polls []voting.PollView
	if s.votes != nil {
		if polls, err = s.votes.MeetingPolls(ctx, c.actor, id); err != nil {
			return err
		}
	}
	d := meetingPageData{Meeting: m, Status: statusOf(m)}
	if cm, err := s.svc.GetCommittee(ctx, m.CommitteeID); err == nil {
		d.Committee = cm.Name
	}
	hidden := map[int64]bool{} // exempt items whose detail the reader may not see
	for _, it := range items {
		row := agendaRow{ID: it.ID, Number: it.Number, Title: it.Title, Kind: it.Kind, Status: it.Status,
			Current: it.ID == m.CurrentItemID && m.Status != agenda.Closed}
		if it.Kind == agenda.Exempt {
			// The agenda redacts exempt items for readers who may not see them; the
			// page shows their detail only when it was not redacted.
			hidden[it.ID] = it.Redacted
			row.Exempt, row.Paragraph, row.Restricted = true, it.ExemptParagraph, !it.Redacted
			if row.Current && m.PrivateParagraph != 0 {
				row.Paragraph = m.PrivateParagraph
			}
		}
		if !hidden[it.ID] {
			row.Description, row.Papers, row.Decision = it.Description, it.Papers, it.Decision
		}
		d.Items = append(d.Items, row)
	}
	rowOf := func(itemID int64) *agendaRow {
		for i := range d.Items {
			if d.Items[i].ID == itemID && !hidden[itemID] {
				return &d.Items[i]
			}
		}
		return nil
	}
	for _, mo := range motions {
		if r := rowOf(mo.ItemID); r != nil {
			r.Motions = append(r.Motions, motionRow{Text: mo.Text, Amendment: mo.AmendsID != 0, Status: strings.ReplaceAll(string(mo.Status), "_", " ")})
		}
	}
	for _, p := range polls {
		if r := rowOf(p.Item); r != nil && (!p.Private || r.Restricted) {
			r.Votes = append(r.Votes, voteOf(p))
		}
	}
	for i := range d.Items {
		if d.Items[i].Current {
			d.Current = &d.Items[i]
		}
	}
	if s.minutes != nil {
		d.Calendar = fmt.Sprintf("/api/v1/councils/%d/meetings.ics", m.CouncilID)
		hs, err := s.minutes.Versions(ctx, c.actor, id)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if h.Status == minutes.Published {
				d.Minutes = h.Version
			}
		}
	}
	s.render(c.w, c.r, http.StatusOK, "meeting", c.actor.Name, d)
	return nil
}

var outcomeWords = map[voting.Outcome]string{
	voting.OutcomeCarried:   "Carried",
	voting.OutcomeLost:      "Lost",
	voting.OutcomeDecided:   "Decided",
	voting.OutcomeTied:      "Tied: awaiting the casting vote of the person presiding",
	voting.OutcomeUndecided: "No decision (an equality of votes)",
	voting.OutcomeInquorate: "No decision: the meeting was not quorate",
}

var optionWords = map[string]string{"for": "For", "against": "Against", "abstain": "Abstentions"}

// voteOf puts a poll's result into words.
func voteOf(p voting.PollView) voteRow {
	v := voteRow{Question: strings.TrimRight(strings.TrimSpace(p.Question), ". "), Open: p.Closing == nil}
	if v.Open {
		v.Outcome = "Voting is open"
		return v
	}
	counts := p.Closing.Counts
	outcome := p.Closing.Outcome
	if p.Result != nil {
		counts, outcome = p.Result.Counts, p.Result.Outcome
	}
	v.Outcome = outcomeWords[outcome]
	if v.Outcome == "" {
		v.Outcome = string(outcome)
	}
	if p.Result != nil && p.Result.Winner != "" {
		v.Outcome += ": " + human(p.Result.Winner)
	}
	if p.Result != nil && p.Result.CastingVote != "" {
		v.Outcome += fmt.Sprintf(" (on the casting vote, %s)", strings.ToLower(optionWord(p.Result.CastingVote)))
	}
	if p.EqualityStood != "" {
		if outcome == voting.OutcomeUndecided {
			v.Outcome = "No decision"
		}
		v.Why = "there was an equality of votes, and " + p.EqualityStood
		if d := p.Declined; d != nil && p.Result.Equality.Resolution == voting.CastingVoteNotGiven {
			if r := strings.TrimRight(strings.TrimSpace(d.Reason), ". "); r != "" {
				v.Reason = r + "."
			}
		}
	}
	var parts []string
	for _, c := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", optionWord(c.Option), c.Count))
	}
	v.Counts = strings.Join(parts, ", ")
	return v
}

func optionWord(o string) string {
	if w, ok := optionWords[o]; ok {
		return w
	}
	return human(o)
}

func human(s string) string { return strings.ReplaceAll(s, "_", " ") }
