package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
)

// Minutes over HTTP: the clerk drafts, edits, publishes and corrects them, the chair
// approves them, and everyone reads them as they may (the public: published minutes in
// their public view, exempt business by its title only). The handlers translate
// between HTTP and minutes.Service, which makes every decision.

// MinutesItemEdit changes the clerk's text of one item of draft minutes; a field left
// out stays as it is.
type MinutesItemEdit struct {
	Notes    *string `json:"notes,omitempty"`
	Decision *string `json:"decision,omitempty"`
}

// ApproveMinutesRequest names the later meeting of the committee at which the chair
// approves the minutes.
type ApproveMinutesRequest struct {
	AtMeeting int64 `json:"at_meeting"`
}

// CorrectionRequest corrects published minutes: the reason, which is published, and
// the new text of items.
type CorrectionRequest struct {
	Reason string             `json:"reason"`
	Items  []minutes.ItemEdit `json:"items"`
}

var versionParam = Param{Name: "version", Type: "integer",
	Description: "A version of the minutes (1, 2, …); the latest the caller may see by default."}

// exportNames names the export routes' operations.
var exportNames = map[minutes.Format]string{
	minutes.FormatHTML:     "HTML",
	minutes.FormatMarkdown: "Markdown",
	minutes.FormatPDF:      "PDF",
	minutes.FormatCSV:      "CSV",
	minutes.FormatPopolo:   "Popolo",
	minutes.FormatRecord:   "Record",
}

var exportSummaries = map[minutes.Format]string{
	minutes.FormatHTML:     "The minutes as an accessible HTML page",
	minutes.FormatMarkdown: "The minutes as Markdown",
	minutes.FormatPDF:      "The minutes as PDF",
	minutes.FormatCSV:      "The votes in the minutes as CSV, one row per member per vote",
	minutes.FormatPopolo:   "The votes in the minutes as Popolo vote events (JSON)",
	minutes.FormatRecord:   "The meeting's verifiable vote record as the minutes carry it, for chamber verify (JSON)",
}

// minutesRoutes are the routes of the minutes, their exports and the public pages and
// feeds made from them.
func (s *Server) minutesRoutes() []Route {
	const mins = "/api/v1/meetings/{meeting}/minutes"
	routes := []Route{
		op(get, mins, Public, s.getMinutes).doc("getMinutes", "minutes",
			"A meeting's minutes: the latest version you may see (the public: the latest published, exempt business by its title only)").
			query(versionParam),
		op(get, mins+"/versions", Public, s.minutesVersions).doc("listMinutesVersions", "minutes",
			"The versions of a meeting's minutes, oldest first, with each correction's reason (the public: published versions)"),
		op(post, mins+"/draft", SignedIn, s.draftMinutes).doc("draftMinutes", "minutes",
			"Draft the minutes of a closed meeting from its records and votes, or redraft a draft keeping the clerk's edits (clerks)"),
		jsonOp(patch, mins+"/items/{item}", SignedIn, s.editMinutesItem).doc("editMinutesItem", "minutes",
			"Edit the notes or decision of an item in draft minutes (clerks)"),
		jsonOp(post, mins+"/approve", SignedIn, s.approveMinutes).doc("approveMinutes", "minutes",
			"Approve draft minutes as a correct record at a later meeting of the committee that has begun (the chair or vice-chair)"),
		op(post, mins+"/publish", SignedIn, s.publishMinutes).doc("publishMinutes", "minutes",
			"Publish approved minutes, which are frozen from then on (clerks)"),
		jsonOp(post, mins+"/corrections", SignedIn, s.correctMinutes).doc("correctMinutes", "minutes",
			"Correct published minutes: a new version, published at once, with its reason and what changed (clerks)").
			status(http.StatusCreated),
	}
	for _, f := range minutes.Formats {
		routes = append(routes, rawOp(get, "/api/v1/meetings/{meeting}/minutes"+f.Extension(), Public, f.ContentType(), s.exportMinutes(f)).
			doc("exportMinutes"+exportNames[f], "minutes", exportSummaries[f]+" (the public: published minutes in their public view)").
			query(versionParam))
	}
	return append(routes,
		rawOp(get, "/api/v1/councils/{council}/meetings.ics", Public, mediaCalendar, s.meetingsCalendar).doc("meetingsCalendar", "minutes",
			"The council's published meetings as an iCalendar feed (RFC 5545), the same for everyone"),
		rawOp(get, "/meetings/{meeting}/minutes", Public, mediaHTML, s.minutesPage).doc("minutesPage", "pages",
			"A meeting's minutes with their versions and corrections").query(versionParam),
	)
}

const mediaCalendar = "text/calendar; charset=utf-8"

// minutesVersion reads the version query parameter: 0 (the latest) when absent.
func (c *call) minutesVersion() (int, error) {
	v := c.r.URL.Query().Get("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "version", Message: "must be a whole number, 1 or more"}}}
	}
	return n, nil
}

func (s *Server) getMinutes(c *call) (*minutes.Minutes, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	v, err := c.minutesVersion()
	if err != nil {
		return nil, err
	}
	return s.minutes.GetVersion(c.r.Context(), c.actor, id, v)
}

func (s *Server) minutesVersions(c *call) ([]minutes.Header, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	out, err := s.minutes.Versions(c.r.Context(), c.actor, id)
	return nonNil(out), err
}

func (s *Server) draftMinutes(c *call) (*minutes.Minutes, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.minutes.Draft(c.r.Context(), c.actor, id)
}

func (s *Server) editMinutesItem(c *call, in MinutesItemEdit) (*minutes.Minutes, error) {
	m, it, err := c.meetingAnd("item")
	if err != nil {
		return nil, err
	}
	return s.minutes.Edit(c.r.Context(), c.actor, m, minutes.ItemEdit{ItemID: it, Notes: in.Notes, Decision: in.Decision})
}

func (s *Server) approveMinutes(c *call, in ApproveMinutesRequest) (*minutes.Minutes, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	if in.AtMeeting <= 0 {
		return nil, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "at_meeting", Message: "must name the meeting at which the minutes are approved"}}}
	}
	return s.minutes.Approve(c.r.Context(), c.actor, id, in.AtMeeting)
}

func (s *Server) publishMinutes(c *call) (*minutes.Minutes, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.minutes.Publish(c.r.Context(), c.actor, id)
}

func (s *Server) correctMinutes(c *call, in CorrectionRequest) (*minutes.Minutes, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.minutes.Correct(c.r.Context(), c.actor, id, in.Reason, in.Items...)
}

// exportMinutes serves one export format of a version of the minutes, as the caller
// may see them, as a file.
func (s *Server) exportMinutes(f minutes.Format) func(*call) error {
	return func(c *call) error {
		id, err := c.id("meeting")
		if err != nil {
			return err
		}
		v, err := c.minutesVersion()
		if err != nil {
			return err
		}
		mi, err := s.minutes.Export(c.r.Context(), c.actor, id, v)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := minutes.Export(&buf, mi, f); err != nil {
			return fmt.Errorf("export minutes of meeting %d as %s: %w", id, f, err)
		}
		h := c.w.Header()
		h.Set("Content-Type", f.ContentType())
		disposition := "attachment"
		if f == minutes.FormatHTML || f == minutes.FormatPDF {
			disposition = "inline"
		}
		h.Set("Content-Disposition", fmt.Sprintf("%s; filename=%q", disposition, minutesFilename(mi, f)))
		if f == minutes.FormatHTML {
			// The page styles itself inline and runs no script.
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		}
		setMinutesCache(h, mi)
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		c.w.WriteHeader(http.StatusOK)
		c.w.Write(buf.Bytes())
		return nil
	}
}

// minutesFilename is the file name an export is saved under, such as
// "minutes-2026-05-01-meeting-7-v2.pdf".
func minutesFilename(mi *minutes.Minutes, f minutes.Format) string {
	return fmt.Sprintf("minutes-%s-meeting-%d-v%d%s", mi.Meeting.StartsAt.UTC().Format("2006-01-02"), mi.MeetingID, mi.Version, f.Extension())
}

// setMinutesCache lets caches keep the public view (revalidating, since a correction
// makes a new latest version) and no copy of the full view.
func setMinutesCache(h http.Header, mi *minutes.Minutes) {
	if mi.View == minutes.PublicView {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	h.Add("Vary", "Authorization, Cookie")
}

// meetingsCalendar serves a council's published meetings as iCalendar. The feed is the
// public one whoever asks, so that calendar programs, which send no credentials, and
// people see the same.
func (s *Server) meetingsCalendar(c *call) error {
	id, err := c.id("council")
	if err != nil {
		return err
	}
	cal, err := s.minutes.Calendar(c.r.Context(), agenda.Actor{}, id, minutes.CalendarOptions{BaseURL: s.public})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := minutes.WriteICal(&buf, cal); err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", mediaCalendar)
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=\"council-%d-meetings.ics\"", id))
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(buf.Bytes())
	return nil
}

// minutesPageData is what the minutes page shows: the minutes' HTML export within the
// site's pages, the versions, and the downloads.
type minutesPageData struct {
	Title     string
	MeetingID int64
	Minutes   *minutes.Minutes
	// Head and Body are the export's header and main content.
	Head, Body template.HTML
	Versions   []minutes.Header
	Downloads  []download
}

type download struct {
	Label, URL string
}

var downloadLabels = map[minutes.Format]string{
	minutes.FormatHTML:     "Web page (HTML)",
	minutes.FormatMarkdown: "Text (Markdown)",
	minutes.FormatPDF:      "PDF",
	minutes.FormatCSV:      "Votes (CSV)",
	minutes.FormatPopolo:   "Votes (Popolo JSON)",
	minutes.FormatRecord:   "Verifiable vote record (JSON)",
}

// minutesDownloads lists the exports of a version of a meeting's minutes (0: the
// latest the reader may see).
func minutesDownloads(meetingID int64, version int) []download {
	out := make([]download, 0, len(minutes.Formats))
	for _, f := range minutes.Formats {
		url := fmt.Sprintf("/api/v1/meetings/%d/minutes%s", meetingID, f.Extension())
		if version > 0 {
			url += fmt.Sprintf("?version=%d", version)
		}
		out = append(out, download{Label: downloadLabels[f], URL: url})
	}
	return out
}

func (s *Server) minutesPage(c *call) error {
	id, err := c.id("meeting")
	if err != nil {
		return err
	}
	v, err := c.minutesVersion()
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	mi, err := s.minutes.GetVersion(ctx, c.actor, id, v)
	if err != nil {
		return err
	}
	versions, err := s.minutes.Versions(ctx, c.actor, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := minutes.WriteHTML(&buf, mi); err != nil {
		return err
	}
	head, body, err := splitMinutesPage(buf.String())
	if err != nil {
		return err
	}
	d := minutesPageData{Title: "Minutes: " + mi.Meeting.Title, MeetingID: id, Minutes: mi, Head: head, Body: body, Versions: versions,
		Downloads: minutesDownloads(id, mi.Version)}
	if mi.View != minutes.PublicView {
		c.w.Header().Set("Cache-Control", "private, no-store")
	}
	s.render(c.w, c.r, http.StatusOK, "minutes", c.actor.Name, d)
	return nil
}

// splitMinutesPage takes the header and the main content out of the minutes' HTML
// export (a whole document written by package minutes with html/template), to show
// them within the site's own page.
func splitMinutesPage(page string) (head, body template.HTML, err error) {
	inner := func(open, close string) (string, bool) {
		i := strings.Index(page, open)
		if i < 0 {
			return "", false
		}
		rest := page[i+len(open):]
		j := strings.LastIndex(rest, close)
		if j < 0 {
			return "", false
		}
		return rest[:j], true
	}
	h, ok1 := inner("<header>", "</header>")
	b, ok2 := inner(`<main id="main">`, "</main>")
	if !ok1 || !ok2 {
		return "", "", errors.New("the minutes page has no header or main element")
	}
	return template.HTML(h), template.HTML(b), nil
}
