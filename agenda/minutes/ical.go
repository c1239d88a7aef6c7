package minutes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
)

// Calendar is a feed of a council's meetings, for iCalendar (RFC 5545).
type Calendar struct {
	// Name is the calendar's name, such as "Northshire County Council meetings".
	Name   string
	Events []CalendarEvent
}

// CalendarEvent is one meeting in a calendar.
type CalendarEvent struct {
	// UID identifies the meeting for good, across updates of the feed.
	UID         string
	Summary     string
	Description string
	Location    string
	URL         string
	Start       time.Time
	// End is when the meeting ended, or is expected to end; zero for none.
	End time.Time
	// Cancelled marks a meeting that will not take place (STATUS:CANCELLED); others
	// are CONFIRMED.
	Cancelled bool
	// Modified is when the meeting was last changed: DTSTAMP and LAST-MODIFIED.
	Modified time.Time
}

// CalendarOptions shape a calendar of meetings.
type CalendarOptions struct {
	// BaseURL is the public URL of the site: each event links to BaseURL/meetings/ID,
	// and UIDs are made unique with its host.
	BaseURL string
	// Duration is how long a meeting that has not closed is expected to last (two
	// hours by default); a closed meeting ends when it closed.
	Duration time.Duration
}

// CalendarOf returns the calendar of a council's meetings: each meeting with its
// committee, place, link, start (and end), confirmed.
func CalendarOf(council agenda.Council, committees []agenda.Committee, meetings []agenda.Meeting, o CalendarOptions) Calendar {
	if o.Duration <= 0 {
		o.Duration = 2 * time.Hour
	}
	base := strings.TrimRight(o.BaseURL, "/")
	host := "chamber.invalid"
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	names := map[int64]string{}
	for _, c := range committees {
		names[c.ID] = c.Name
	}
	cal := Calendar{Name: council.Name + " meetings", Events: []CalendarEvent{}}
	for _, m := range meetings {
		ev := CalendarEvent{
			UID:      fmt.Sprintf("meeting-%d@%s", m.ID, host),
			Summary:  m.Title,
			Location: m.Location,
			Start:    m.StartsAt.UTC(),
			End:      m.StartsAt.UTC().Add(o.Duration),
			Modified: m.UpdatedAt.UTC(),
		}
		if m.ClosedAt != nil {
			ev.End = m.ClosedAt.UTC()
		}
		if name := names[m.CommitteeID]; name != "" && name != m.Title {
			ev.Summary = name + ": " + m.Title
		}
		if base != "" {
			ev.URL = base + "/meetings/" + strconv.FormatInt(m.ID, 10)
		}
		var d strings.Builder
		fmt.Fprintf(&d, "%s, %s.", names[m.CommitteeID], council.Name)
		switch m.Status {
		case agenda.InProgress:
			d.WriteString(" The meeting is in progress.")
		case agenda.Adjourned:
			d.WriteString(" The meeting is adjourned.")
		case agenda.Closed:
			d.WriteString(" The meeting has closed.")
		}
		if ev.URL != "" {
			d.WriteString(" Agenda, papers, decisions and minutes: " + ev.URL)
		}
		ev.Description = strings.TrimPrefix(d.String(), ", ")
		cal.Events = append(cal.Events, ev)
	}
	return cal
}

// Calendar returns the calendar of a council's meetings that actor may see (the public:
// published meetings).
func (s *Service) Calendar(ctx context.Context, actor agenda.Actor, councilID int64, o CalendarOptions) (Calendar, error) {
	council, err := s.agenda.GetCouncil(ctx, councilID)
	if err != nil {
		return Calendar{}, fromDomain(err)
	}
	committees, err := s.agenda.ListCommittees(ctx, councilID)
	if err != nil {
		return Calendar{}, fromDomain(err)
	}
	var meetings []agenda.Meeting
	q := agenda.MeetingQuery{CouncilID: councilID, Limit: agenda.MaxPageSize}
	for {
		page, err := s.agenda.ListMeetings(ctx, actor, q)
		if err != nil {
			return Calendar{}, fromDomain(err)
		}
		meetings = append(meetings, page.Items...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	return CalendarOf(council, committees, meetings, o), nil
}

// WriteICal writes the calendar as iCalendar (RFC 5545): one VEVENT per meeting with
// its UID, DTSTAMP, DTSTART and DTEND in UTC, SUMMARY, DESCRIPTION, LOCATION, URL and
// STATUS; text escaped and lines folded at 75 octets, with CRLF line ends. The object
// has no METHOD, so that DTSTAMP is, as RFC 5545 then defines it, when the meeting was
// last changed, and the feed changes only when a meeting does.
func WriteICal(w io.Writer, c Calendar) error {
	bw := bufio.NewWriter(w)
	line := func(name, value string) { writeFolded(bw, name+":"+value) }
	text := func(name, value string) {
		if value != "" {
			line(name, icalText(value))
		}
	}
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Chamber//Council meetings//EN")
	line("CALSCALE", "GREGORIAN")
	text("X-WR-CALNAME", c.Name)
	for _, ev := range c.Events {
		line("BEGIN", "VEVENT")
		text("UID", ev.UID)
		line("DTSTAMP", icalTime(ev.Modified))
		line("DTSTART", icalTime(ev.Start))
		if !ev.End.IsZero() {
			line("DTEND", icalTime(ev.End))
		}
		text("SUMMARY", ev.Summary)
		text("DESCRIPTION", ev.Description)
		text("LOCATION", ev.Location)
		if ev.URL != "" {
			line("URL;VALUE=URI", ev.URL)
		}
		status := "CONFIRMED"
		if ev.Cancelled {
			status = "CANCELLED"
		}
		line("STATUS", status)
		line("LAST-MODIFIED", icalTime(ev.Modified))
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write iCalendar: %w", err)
	}
	return nil
}

// icalTime is a DATE-TIME in UTC: 20260506T173000Z.
func icalTime(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("20060102T150405Z")
}

// icalText escapes a TEXT value (RFC 5545 section 3.3.11).
func icalText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// writeFolded writes a content line folded at 75 octets, never inside a UTF-8
// sequence (RFC 5545 section 3.1), ending it with CRLF.
func writeFolded(w *bufio.Writer, l string) {
	limit := 75
	for len(l) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		w.WriteString(l[:cut])
		w.WriteString("\r\n ")
		l = l[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(l)
	w.WriteString("\r\n")
}
