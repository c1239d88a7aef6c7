package minutes

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// WritePDF writes the minutes as an A4 PDF with the same sections as the HTML page. The
// text is real text in embedded Unicode fonts (the Go fonts), so that it can be
// searched, copied and read aloud; headings are in the document outline, and the
// document declares its title and language.
func WritePDF(w io.Writer, m *Minutes) error {
	p := &pdfWriter{m: m, f: fpdf.New("P", "mm", "A4", "")}
	p.write()
	if err := p.f.Error(); err != nil {
		return fmt.Errorf("write minutes PDF: %w", err)
	}
	if err := p.f.Output(w); err != nil {
		return fmt.Errorf("write minutes PDF: %w", err)
	}
	return nil
}

type pdfWriter struct {
	m *Minutes
	f *fpdf.Fpdf
}

const (
	pdfFont   = "go"
	pdfMono   = "gomono"
	pdfMargin = 20.0
	pdfLine   = 5.0 // line height of body text, mm
)

func (p *pdfWriter) write() {
	m, f := p.m, p.f
	f.AddUTF8FontFromBytes(pdfFont, "", goregular.TTF)
	f.AddUTF8FontFromBytes(pdfFont, "B", gobold.TTF)
	f.AddUTF8FontFromBytes(pdfFont, "I", goitalic.TTF)
	if m.Log != nil {
		// Only with a checkpoint to print: a font embedded but unused does not subset
		// the same way twice.
		f.AddUTF8FontFromBytes(pdfMono, "", gomono.TTF)
	}
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(true, pdfMargin)
	title := m.title() + ": " + m.date(m.Meeting.StartsAt)
	f.SetTitle(title, true)
	f.SetAuthor(m.Meeting.Council.Name, true)
	f.SetSubject(m.Meeting.Title, true)
	f.SetCreator("Chamber", true)
	f.SetProducer("Chamber", true)
	f.SetLang("en-GB")
	f.SetDisplayMode("fullwidth", "continuous")
	f.SetCatalogSort(true) // the same minutes make the same bytes
	at := m.Drafted.At
	if m.Published != nil {
		at = m.Published.At
	}
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-15)
		f.SetFont(pdfFont, "", 8)
		f.SetTextColor(80, 80, 80)
		f.CellFormat(0, 5, fmt.Sprintf("%s: %s. Version %d. Page %d of {nb}", m.Meeting.Council.Name, m.title(), m.Version, f.PageNo()),
			"", 0, "C", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()

	f.SetFont(pdfFont, "", 10)
	f.MultiCell(0, pdfLine, m.Meeting.Council.Name, "", "L", false)
	p.heading(1, m.title())
	f.SetFont(pdfFont, "I", 10)
	f.MultiCell(0, pdfLine, m.statusLine(), "", "L", false)
	f.Ln(2)

	p.heading(2, "Meeting")
	chair := "Not recorded"
	if m.Meeting.Chair != nil {
		chair = m.Meeting.Chair.Display()
	}
	details := [][]string{{"Meeting", m.Meeting.Title}, {"Date", m.date(m.Meeting.StartsAt)}, {"Time", m.span()}}
	if m.Meeting.Location != "" {
		details = append(details, []string{"Place", m.Meeting.Location})
	}
	details = append(details, []string{"In the chair", chair}, []string{"Quorum", m.quorumText()})
	p.table(nil, details, []float64{1, 3})
	p.para(m.zoneNote())

	p.heading(2, "Attendance")
	if len(m.Present) > 0 {
		p.caption("Members present")
		var rows [][]string
		for _, a := range m.Present {
			role := roleLabel(a.Role)
			if a.SubstituteFor != nil {
				role += ", for " + a.SubstituteFor.Display()
			}
			rows = append(rows, []string{a.Display(), role, a.Party, m.stretches(a), m.clock(a.Arrived), m.clockPtr(a.Left)})
		}
		p.table([]string{"Member", "Role", "Party", "Attended", "Arrived", "Left"}, rows, []float64{3, 2.2, 2, 4, 1.3, 1.3})
	} else {
		p.para("No members were recorded as present.")
	}
	if len(m.Officers) > 0 {
		p.caption("Officers present")
		var rows [][]string
		for _, a := range m.Officers {
			rows = append(rows, []string{a.Display(), officerRole(a), m.stretches(a), m.clock(a.Arrived), m.clockPtr(a.Left)})
		}
		p.table([]string{"Officer", "Role", "Attended", "Arrived", "Left"}, rows, []float64{3, 3, 4, 1.3, 1.3})
	}
	if len(m.Others) > 0 {
		p.heading(3, "Also present")
		var items []string
		for _, a := range m.Others {
			items = append(items, a.Display()+": "+m.stretches(a))
		}
		p.list(items)
	}
	p.heading(3, "Apologies for absence")
	var apologies []string
	for _, a := range m.Apologies {
		s := a.Display()
		if a.Reason != "" {
			s += ": " + a.Reason
		}
		if a.SubstitutedBy != nil {
			s += " (substituted by " + a.SubstitutedBy.Display() + ")"
		}
		apologies = append(apologies, s)
	}
	p.list(apologies)
	p.heading(3, "Substitutes")
	var subs []string
	for _, s := range m.Substitutions {
		subs = append(subs, s.Substitute.Display()+" for "+s.For.Display())
	}
	p.list(subs)
	p.heading(3, "Absent")
	var absent []string
	for _, a := range m.Absent {
		absent = append(absent, a.Display())
	}
	p.list(absent)

	p.heading(2, "Declarations of interest")
	if len(m.Declarations) == 0 {
		p.para("No interests were declared.")
	} else {
		var rows [][]string
		for _, dc := range m.Declarations {
			rows = append(rows, []string{dc.Display(), declarationItem(dc), interestLabel(dc.Kind), declarationDetail(dc), yesNo(dc.Withdraws)})
		}
		p.table([]string{"Member", "Item", "Interest", "Detail", "Withdrew"}, rows, []float64{3, 1.3, 2.7, 4.5, 1.5})
	}
	if len(m.Adjournments) > 0 {
		p.heading(2, "Adjournments")
		var items []string
		for _, a := range m.Adjournments {
			s := "Adjourned at " + m.clock(a.At)
			if a.Resumed != nil {
				s += ", resumed at " + m.clock(*a.Resumed)
			}
			items = append(items, s+".")
		}
		p.list(items)
	}

	p.heading(2, "Items of business")
	for i := range m.Items {
		p.item(&m.Items[i])
	}

	p.heading(2, "Approval")
	p.para(m.approvalText())
	if c := m.Correction; c != nil {
		p.heading(3, "Correction")
		s := fmt.Sprintf("Version %d corrects version %d", m.Version, c.Supersedes)
		if m.Published != nil {
			s += ", published " + m.dateTime(m.Published.At)
		}
		p.para(s + ". Reason: " + c.Reason)
		p.para(c.Summary)
		if len(c.Changes) > 0 {
			var rows [][]string
			for _, ch := range c.Changes {
				before, after := ch.Before, ch.After
				if ch.Redacted {
					before, after = "(exempt business)", "(exempt business)"
				}
				rows = append(rows, []string{ch.Number + ". " + ch.Title, ch.Field, before, after})
			}
			p.table([]string{"Item", "Text", "Before", "After"}, rows, []float64{2.5, 1.2, 4, 4})
		}
	}
	if lg := m.Log; lg != nil {
		p.heading(2, "Verification")
		p.para(verifyText(""))
		p.table(nil, [][]string{{"Log", lg.Origin}, {"Entries", fmt.Sprint(lg.Size)}, {"Root hash", lg.RootHash},
			{"Verifier key", lg.VerifierKey}}, []float64{1, 4})
		f.SetFont(pdfMono, "", 7.5)
		f.MultiCell(0, 3.8, strings.TrimRight(lg.Checkpoint, "\n"), "1", "L", false)
	}
}

func (p *pdfWriter) heading(level int, text string) {
	f := p.f
	size := map[int]float64{1: 18, 2: 14, 3: 12, 4: 11}[level]
	before := map[int]float64{1: 2, 2: 5, 3: 4, 4: 2}[level]
	// Keep a heading with the lines that follow it.
	_, pageH := f.GetPageSize()
	if f.GetY()+before+size*0.6+3*pdfLine > pageH-pdfMargin {
		f.AddPage()
	} else {
		f.Ln(before)
	}
	if level > 1 && level < 4 {
		f.Bookmark(text, level-2, -1)
	}
	f.SetFont(pdfFont, "B", size)
	f.MultiCell(0, size*0.5, text, "", "L", false)
	f.Ln(1)
	f.SetFont(pdfFont, "", 10)
}

func (p *pdfWriter) caption(text string) {
	p.f.SetFont(pdfFont, "B", 10)
	p.f.MultiCell(0, pdfLine, text, "", "L", false)
	p.f.SetFont(pdfFont, "", 10)
}

func (p *pdfWriter) para(text string) {
	p.f.SetFont(pdfFont, "", 10)
	for _, lines := range paras(text) {
		p.f.MultiCell(0, pdfLine, strings.Join(lines, "\n"), "", "L", false)
		p.f.Ln(1.5)
	}
}

func (p *pdfWriter) bold(text string) {
	p.f.SetFont(pdfFont, "B", 10)
	p.f.MultiCell(0, pdfLine, text, "", "L", false)
	p.f.Ln(1.5)
	p.f.SetFont(pdfFont, "", 10)
}

func (p *pdfWriter) list(items []string) {
	if len(items) == 0 {
		p.para("None.")
		return
	}
	f := p.f
	f.SetFont(pdfFont, "", 10)
	left, _, right, _ := f.GetMargins()
	pageW, _ := f.GetPageSize()
	for _, it := range items {
		f.SetX(left)
		f.CellFormat(5, pdfLine, "•", "", 0, "L", false, 0, "")
		f.SetLeftMargin(left + 5)
		f.MultiCell(pageW-left-right-5, pdfLine, it, "", "L", false)
		f.SetLeftMargin(left)
	}
	f.Ln(1.5)
}

// table draws a table whose columns share the width in the given proportions; head
// may be nil. Rows grow to fit their text and do not break across pages.
func (p *pdfWriter) table(head []string, rows [][]string, widths []float64) {
	f := p.f
	left, _, right, _ := f.GetMargins()
	pageW, pageH := f.GetPageSize()
	total := 0.0
	for _, w := range widths {
		total += w
	}
	ws := make([]float64, len(widths))
	for i, w := range widths {
		ws[i] = (pageW - left - right) * w / total
	}
	const lh = 4.6
	draw := func(cells []string, style string, fill bool) {
		f.SetFont(pdfFont, style, 9)
		lines := 1
		split := make([][]string, len(cells))
		for i, c := range cells {
			for _, l := range f.SplitLines([]byte(c), ws[i]-2) {
				split[i] = append(split[i], string(l))
			}
			if len(split[i]) == 0 {
				split[i] = []string{""}
			}
			lines = max(lines, len(split[i]))
		}
		h := float64(lines)*lh + 1.5
		if f.GetY()+h > pageH-pdfMargin {
			f.AddPage()
		}
		x, y := left, f.GetY()
		for i := range cells {
			if fill {
				f.SetFillColor(235, 235, 235)
				f.Rect(x, y, ws[i], h, "FD")
			} else {
				f.Rect(x, y, ws[i], h, "D")
			}
			f.SetXY(x+1, y+0.75)
			f.MultiCell(ws[i]-2, lh, strings.Join(split[i], "\n"), "", "L", false)
			x += ws[i]
		}
		f.SetXY(left, y+h)
	}
	f.SetDrawColor(140, 140, 140)
	if head != nil {
		draw(head, "B", true)
	}
	for _, r := range rows {
		draw(r, "", false)
	}
	f.SetDrawColor(0, 0, 0)
	f.SetFont(pdfFont, "", 10)
	f.Ln(2)
}

func (p *pdfWriter) item(it *Item) {
	m := p.m
	p.heading(3, itemHeading(it))
	if it.Exclusion != nil {
		p.para(m.exclusionText(it))
	}
	if it.Redacted {
		p.para(redactedText)
		return
	}
	if !it.Taken {
		p.para(notTakenText)
	}
	if it.Description != "" {
		p.heading(4, "Summary")
		p.para(it.Description)
	}
	for _, dc := range m.ItemDeclarations(it.ID) {
		if dc.Withdraws {
			p.para(withdrawalText(dc))
		}
	}
	if len(it.Speakers) > 0 {
		p.heading(4, "Public speakers")
		var items []string
		for _, sp := range it.Speakers {
			items = append(items, speakerText(sp))
		}
		p.list(items)
	}
	if it.Notes != "" {
		p.heading(4, "Minute")
		p.para(it.Notes)
	}
	for i := range it.Motions {
		mo := &it.Motions[i]
		p.heading(4, motionHeading(mo))
		p.f.SetFont(pdfFont, "I", 10)
		p.f.MultiCell(0, pdfLine, "“"+mo.Text+"”", "", "L", false)
		p.f.Ln(1.5)
		p.para(strings.TrimSpace(moverText(mo) + " " + motionStatus(mo.Status) + "."))
	}
	for _, ref := range it.VoteRefs() {
		p.heading(4, voteHeading(ref))
		p.vote(ref.Vote)
	}
	if it.Decision != "" {
		p.heading(4, "Decision")
		p.f.SetFont(pdfFont, "B", 10)
		for _, lines := range paras(it.Decision) {
			p.f.MultiCell(0, pdfLine, strings.Join(lines, "\n"), "", "L", false)
			p.f.Ln(1.5)
		}
		p.f.SetFont(pdfFont, "", 10)
	}
}

func (p *pdfWriter) vote(v *Vote) {
	m := p.m
	p.para("Question: " + v.Question)
	var rows [][]string
	for _, r := range countRows(v) {
		rows = append(rows, []string{r[0], r[1]})
	}
	p.table([]string{"Vote", "Number"}, rows, []float64{3, 1})
	s := "Result: " + resultText(v)
	if c := castingText(v); c != "" {
		s += " " + c
	}
	p.bold(s)
	p.para(m.voteFacts(v))
	if len(v.Overrides) > 0 {
		var items []string
		for _, o := range v.Overrides {
			items = append(items, "The chair allowed "+o.Member.Display()+" to vote: "+o.Reason)
		}
		p.list(items)
	}
	if v.Recorded {
		// A recorded vote is printed as minutes print one: the names, option by option.
		p.caption("Recorded vote")
		groups, byClerk, byProxy := groupVotes(v)
		for _, g := range groups {
			if len(g.Names) == 0 {
				continue
			}
			p.para(fmt.Sprintf("%s (%d): %s.", g.Label, len(g.Names), strings.Join(g.Names, ", ")))
		}
		if len(byClerk) > 0 {
			p.para("Votes given in the room and recorded by the clerk: " + strings.Join(byClerk, ", ") + ".")
		}
		if len(byProxy) > 0 {
			p.para("Votes cast by proxy: " + strings.Join(byProxy, ", ") + ".")
		}
	}
}
