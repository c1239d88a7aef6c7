package minutes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"golang.org/x/net/html"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/minutes/minutestest"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
)

// exports renders every export of m, the PDF as its extracted text (and, under
// "pdf-bytes", the PDF itself).
func exports(t *testing.T, m *minutes.Minutes) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range minutes.Formats {
		var b bytes.Buffer
		if err := minutes.Export(&b, m, f); err != nil {
			t.Fatalf("export %s: %v", f, err)
		}
		if f == minutes.FormatPDF {
			out["pdf-bytes"] = b.Bytes()
			out["minutes.pdf.txt"] = []byte(minutestest.PDFText(t, b.Bytes()))
			continue
		}
		out["minutes"+f.Extension()] = b.Bytes()
	}
	return out
}

// TestExports drives a whole meeting through the agenda and voting services, drafts,
// edits, approves and publishes its minutes, and checks every export of both views
// against golden files and against what each format must be.
func TestExports(t *testing.T) {
	w := newWorld(t, dbtest.Open(t, migrations.SQLite))
	mt, _ := w.publishedMinutes()
	full, err := w.svc.Export(w.ctx, w.anwen, mt.ID, 0) // a member reads the full minutes
	w.must(err)
	public, err := w.svc.Export(w.ctx, agenda.Anyone, mt.ID, 0)
	w.must(err)
	if full.View != minutes.FullView || public.View != minutes.PublicView {
		t.Fatalf("views %s and %s, want full and public", full.View, public.View)
	}

	views := map[string]map[string][]byte{"full": exports(t, full), "public": exports(t, public)}
	for view, files := range views {
		for name, b := range files {
			if name != "pdf-bytes" {
				golden(t, filepath.Join(view, name), b)
			}
		}
	}

	t.Run("SecretStaysPrivate", func(t *testing.T) {
		for name, b := range views["public"] {
			if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte("Blue Heron")) {
				t.Errorf("public %s holds the exempt item's secret", name)
			}
		}
		b, err := json.Marshal(public)
		w.must(err)
		if bytes.Contains(b, []byte("Blue Heron")) {
			t.Errorf("the public minutes' JSON holds the exempt item's secret")
		}
		for _, name := range []string{"minutes.html", "minutes.md", "minutes.pdf.txt", "minutes.csv", "minutes.popolo.json", "minutes.record.json"} {
			if !bytes.Contains(bytes.ReplaceAll(views["full"][name], []byte("\n"), []byte(" ")), []byte(secret)) {
				t.Errorf("full %s does not hold the exempt item's text: is the test looking in the right place?", name)
			}
		}
		for _, it := range public.Items {
			if it.Exempt() && (!it.Redacted || it.Notes != "" || it.Decision != "" || it.Description != "" || len(it.Motions) > 0 || len(it.Votes) > 0) {
				t.Errorf("public item %s is not redacted: %+v", it.Number, it)
			}
			if it.Exempt() && (it.Title != "Enforcement: Pen-y-bryn Farm" || it.Exclusion == nil || it.Exclusion.Paragraph != 16) {
				t.Errorf("public item %s lost its title or the resolution to exclude the public: %+v", it.Number, it)
			}
		}
	})

	t.Run("PDF", func(t *testing.T) {
		for view, files := range views {
			b := files["pdf-bytes"]
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Fatalf("%s PDF does not start with %%PDF-", view)
			}
			text := strings.Join(strings.Fields(string(files["minutes.pdf.txt"])), " ")
			for _, want := range []string{
				"Minutes of the Planning Committee", "Cwm Derwen County Borough Council", "Wednesday 6 May 2026",
				"Cllr Dafydd ap Gwŷn", "Remotely, with a vote", "Cllr Mair Lewis: Family commitment (substituted by Cllr Bethan Rees)",
				"Prejudicial interest", "Mrs Glenys Parry, objector", "Recorded vote",
				"There being an equality of votes, Cllr Eleri Morgan, presiding, gave a casting vote: for.",
				"RESOLVED that the revised Planning Enforcement Policy be adopted.",
				"paragraph 16 of Schedule 12A", "Enforcement: Pen-y-bryn Farm",
				"Approved as a correct record at the meeting of the Planning Committee on Wednesday 3 June 2026",
				full.Log.RootHash,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("%s PDF text lacks %q", view, want)
				}
			}
		}
		var again bytes.Buffer
		w.must(minutes.WritePDF(&again, public))
		if !bytes.Equal(again.Bytes(), views["public"]["pdf-bytes"]) {
			t.Errorf("the same minutes gave two different PDFs")
		}
	})

	t.Run("PopoloSchema", func(t *testing.T) {
		schema := minutestest.PopoloSchema(t)
		for view, files := range views {
			var doc struct {
				VoteEvents []any `json:"vote_events"`
			}
			dec := json.NewDecoder(bytes.NewReader(files["minutes.popolo.json"]))
			dec.UseNumber()
			w.must(dec.Decode(&doc))
			if want := map[string]int{"full": 4, "public": 3}[view]; len(doc.VoteEvents) != want {
				t.Errorf("%s Popolo has %d vote events, want %d", view, len(doc.VoteEvents), want)
			}
			for i, ev := range doc.VoteEvents {
				if err := schema.Validate(ev); err != nil {
					t.Errorf("%s vote event %d does not validate against the Popolo schema: %v", view, i, err)
				}
			}
		}
		// The schema is not a rubber stamp.
		bad := map[string]any{"counts": []any{map[string]any{"option": "yes"}}, "start_date": "yesterday"}
		if schema.Validate(bad) == nil {
			t.Errorf("a vote event with a count without value and a bad date validates")
		}
	})

	t.Run("CSVAgreesWithPopolo", func(t *testing.T) {
		for view, files := range views {
			minutestest.CSVAgreesWithPopolo(t, view, files["minutes.csv"], files["minutes.popolo.json"])
		}
	})

	t.Run("RecordVerifies", func(t *testing.T) {
		for view, files := range views {
			rec, err := voting.ParseRecord(files["minutes.record.json"])
			w.must(err)
			if problems := voting.VerifyRecord(rec); len(problems) > 0 {
				t.Errorf("%s record does not verify: %v", view, problems)
			}
			if rec.Log.Checkpoint != full.Log.Checkpoint {
				t.Errorf("%s record's checkpoint differs from the minutes'", view)
			}
			if view == "public" && len(rec.Withheld) == 0 {
				t.Errorf("the public record withholds nothing")
			}
		}
		// The record is written a poll at a time; it must read as if written whole.
		whole, err := json.MarshalIndent(full.Record, "", "  ")
		w.must(err)
		if got := views["full"]["minutes.record.json"]; !bytes.Equal(got, append(whole, '\n')) {
			t.Errorf("the record written a poll at a time differs from json.MarshalIndent's")
		}
	})

	t.Run("HTMLAccessible", func(t *testing.T) {
		for view, files := range views {
			checkHTML(t, view, files["minutes.html"])
		}
	})

	t.Run("ICal", func(t *testing.T) {
		w.clock.Set(time.Date(2026, 6, 5, 8, 0, 0, 0, time.UTC))
		cal, err := w.svc.Calendar(w.ctx, agenda.Anyone, w.council.ID, minutes.CalendarOptions{BaseURL: "https://meetings.cwmderwen.example/"})
		w.must(err)
		// A meeting called off, and text that needs escaping and folding.
		cal.Events = append(cal.Events, minutes.CalendarEvent{UID: "meeting-99@meetings.cwmderwen.example", Summary: "Licensing; Sub-Committee, \\ special",
			Description: "Called off.\nA long description, long enough that its content line must be folded over more than one line, in Welsh too: Pwyllgor Trwyddedu ŵŷ.",
			Start:       time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC), Cancelled: true, Modified: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		var b bytes.Buffer
		w.must(minutes.WriteICal(&b, cal))
		golden(t, "meetings.ics", b.Bytes())
		for i, l := range strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
			if len(l) > 75 {
				t.Errorf("line %d is %d octets long: %q", i+1, len(l), l)
			}
			if strings.Contains(l, "\n") {
				t.Errorf("line %d ends without CR: %q", i+1, l)
			}
		}
		parsed, err := ics.ParseCalendar(bytes.NewReader(b.Bytes()))
		w.must(err)
		events := parsed.Events()
		if len(events) != 3 {
			t.Fatalf("%d events, want 3 (two meetings and the one called off)", len(events))
		}
		first := events[0]
		start, err := first.GetStartAt()
		w.must(err)
		if !start.Equal(mt.StartsAt) {
			t.Errorf("DTSTART %v, want %v", start, mt.StartsAt)
		}
		if got := first.GetProperty(ics.ComponentPropertyDtStart).Value; !strings.HasSuffix(got, "Z") {
			t.Errorf("DTSTART %q is not in UTC", got)
		}
		for prop, want := range map[ics.ComponentProperty]string{
			ics.ComponentPropertyUniqueId: fmt.Sprintf("meeting-%d@meetings.cwmderwen.example", mt.ID),
			ics.ComponentPropertyLocation: "Council Chamber, Civic Centre, Cwm Derwen",
			ics.ComponentPropertyUrl:      fmt.Sprintf("https://meetings.cwmderwen.example/meetings/%d", mt.ID),
			ics.ComponentPropertyStatus:   "CONFIRMED",
		} {
			p := first.GetProperty(prop)
			if p == nil || ics.FromText(p.Value) != want {
				t.Errorf("%s: got %v, want %q", prop, p, want)
			}
		}
		if _, err := first.GetDtStampTime(); err != nil {
			t.Errorf("DTSTAMP: %v", err)
		}
		off := events[2]
		if got := off.GetProperty(ics.ComponentPropertyStatus).Value; got != "CANCELLED" {
			t.Errorf("STATUS %q, want CANCELLED", got)
		}
		if got := ics.FromText(off.GetProperty(ics.ComponentPropertySummary).Value); got != "Licensing; Sub-Committee, \\ special" {
			t.Errorf("SUMMARY read back as %q", got)
		}
		if got := ics.FromText(off.GetProperty(ics.ComponentPropertyDescription).Value); !strings.HasSuffix(got, "Pwyllgor Trwyddedu ŵŷ.") || !strings.Contains(got, "off.\n") {
			t.Errorf("DESCRIPTION read back as %q", got)
		}
	})
}

// checkHTML checks what makes the page accessible: a language, a title, headings that
// start at one and skip no level, tables with captions and header cells with scopes,
// and no script.
func checkHTML(t *testing.T, view string, b []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s HTML: %v", view, err)
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	level, title, ids := 0, false, map[string]bool{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				if lang, _ := attr(n, "lang"); lang != "en-GB" {
					t.Errorf("%s HTML: lang %q", view, lang)
				}
			case "title":
				title = n.FirstChild != nil && strings.TrimSpace(n.FirstChild.Data) != ""
			case "h1", "h2", "h3", "h4", "h5", "h6":
				l := int(n.Data[1] - '0')
				if l > level+1 {
					t.Errorf("%s HTML: <%s> follows <h%d>", view, n.Data, level)
				}
				level = l
			case "table":
				c := n.FirstChild
				for c != nil && c.Type != html.ElementNode {
					c = c.NextSibling
				}
				if c == nil || c.Data != "caption" {
					t.Errorf("%s HTML: a table does not begin with a caption", view)
				}
			case "th":
				if scope, _ := attr(n, "scope"); scope != "col" && scope != "row" {
					t.Errorf("%s HTML: a header cell has scope %q", view, scope)
				}
			case "script":
				t.Errorf("%s HTML: a script", view)
			}
			if id, ok := attr(n, "id"); ok {
				if ids[id] {
					t.Errorf("%s HTML: id %q twice", view, id)
				}
				ids[id] = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !title {
		t.Errorf("%s HTML: no title", view)
	}
	if level == 0 {
		t.Errorf("%s HTML: no headings", view)
	}
}
