package minutes

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the minutes as Markdown (CommonMark with pipe tables), with the
// same sections as the HTML page.
func WriteMarkdown(w io.Writer, m *Minutes) error {
	bw := bufio.NewWriter(w)
	md := &mdWriter{w: bw, m: m}
	md.write()
	return bw.Flush()
}

type mdWriter struct {
	w *bufio.Writer
	m *Minutes
}

func (md *mdWriter) line(format string, args ...any) {
	fmt.Fprintf(md.w, format, args...)
	md.w.WriteByte('\n')
}

func (md *mdWriter) blank() { md.w.WriteByte('\n') }

// text writes paragraphs of the clerk's text, escaped, keeping line breaks.
func (md *mdWriter) text(s string) {
	for _, p := range paras(s) {
		for i := range p {
			p[i] = mdEscape(p[i])
		}
		md.line("%s", strings.Join(p, "  \n"))
		md.blank()
	}
}

func (md *mdWriter) para(s string) {
	md.line("%s", mdEscape(s))
	md.blank()
}

func (md *mdWriter) table(head []string, rows [][]string) {
	cells := func(cs []string) string {
		esc := make([]string, len(cs))
		for i, c := range cs {
			esc[i] = mdCell(c)
		}
		return "| " + strings.Join(esc, " | ") + " |"
	}
	md.line("%s", cells(head))
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---"
	}
	md.line("| %s |", strings.Join(seps, " | "))
	for _, r := range rows {
		md.line("%s", cells(r))
	}
	md.blank()
}

func (md *mdWriter) list(items []string) {
	if len(items) == 0 {
		md.para("None.")
		return
	}
	for _, it := range items {
		md.line("- %s", mdEscape(it))
	}
	md.blank()
}

func (md *mdWriter) write() {
	m := md.m
	md.line("# %s", mdEscape(m.title()))
	md.blank()
	md.para(m.Meeting.Council.Name)
	md.line("> %s", mdEscape(m.statusLine()))
	md.blank()

	md.line("## Meeting")
	md.blank()
	chair := "Not recorded"
	if m.Meeting.Chair != nil {
		chair = m.Meeting.Chair.Display()
	}
	details := [][2]string{{"Meeting", m.Meeting.Title}, {"Date", m.date(m.Meeting.StartsAt)}, {"Time", m.span()}}
	if m.Meeting.Location != "" {
		details = append(details, [2]string{"Place", m.Meeting.Location})
	}
	details = append(details, [2]string{"In the chair", chair}, [2]string{"Quorum", m.quorumText()})
	for _, d := range details {
		md.line("- **%s:** %s", d[0], mdEscape(d[1]))
	}
	md.blank()
	md.para(m.zoneNote())

	md.line("## Attendance")
	md.blank()
	if len(m.Present) > 0 {
		md.line("Members present:")
		md.blank()
		var rows [][]string
		for _, a := range m.Present {
			role := roleLabel(a.Role)
			if a.SubstituteFor != nil {
				role += ", for " + a.SubstituteFor.Display()
			}
			rows = append(rows, []string{a.Display(), role, a.Party, m.stretches(a), m.clock(a.Arrived), m.clockPtr(a.Left)})
		}
		md.table([]string{"Member", "Role", "Party", "Attended", "Arrived", "Left"}, rows)
	} else {
		md.para("No members were recorded as present.")
	}
	if len(m.Officers) > 0 {
		md.line("Officers present:")
		md.blank()
		var rows [][]string
		for _, a := range m.Officers {
			rows = append(rows, []string{a.Display(), officerRole(a), m.stretches(a), m.clock(a.Arrived), m.clockPtr(a.Left)})
		}
		md.table([]string{"Officer", "Role", "Attended", "Arrived", "Left"}, rows)
	}
	if len(m.Others) > 0 {
		md.line("### Also present")
		md.blank()
		var items []string
		for _, a := range m.Others {
			s := a.Display()
			if a.Party != "" {
				s += " (" + a.Party + ")"
			}
			items = append(items, s+": "+m.stretches(a))
		}
		md.list(items)
	}
	md.line("### Apologies for absence")
	md.blank()
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
	md.list(apologies)
	md.line("### Substitutes")
	md.blank()
	var subs []string
	for _, s := range m.Substitutions {
		subs = append(subs, s.Substitute.Display()+" for "+s.For.Display())
	}
	md.list(subs)
	md.line("### Absent")
	md.blank()
	var absent []string
	for _, p := range m.Absent {
		absent = append(absent, p.Display())
	}
	md.list(absent)

	md.line("## Declarations of interest")
	md.blank()
	if len(m.Declarations) == 0 {
		md.para("No interests were declared.")
	} else {
		var rows [][]string
		for _, dc := range m.Declarations {
			rows = append(rows, []string{dc.Display(), declarationItem(dc), interestLabel(dc.Kind), declarationDetail(dc), yesNo(dc.Withdraws)})
		}
		md.table([]string{"Member", "Item", "Interest", "Detail", "Withdrew"}, rows)
	}
	if len(m.Adjournments) > 0 {
		md.line("## Adjournments")
		md.blank()
		var items []string
		for _, a := range m.Adjournments {
			s := "Adjourned at " + m.clock(a.At)
			if a.Resumed != nil {
				s += ", resumed at " + m.clock(*a.Resumed)
			}
			items = append(items, s+".")
		}
		md.list(items)
	}

	md.line("## Items of business")
	md.blank()
	for i := range m.Items {
		md.item(&m.Items[i])
	}

	md.line("## Approval")
	md.blank()
	md.para(m.approvalText())
	if c := m.Correction; c != nil {
		md.line("### Correction")
		md.blank()
		s := fmt.Sprintf("Version %d corrects version %d", m.Version, c.Supersedes)
		if m.Published != nil {
			s += ", published " + m.dateTime(m.Published.At)
		}
		md.para(s + ". Reason: " + c.Reason)
		md.para(c.Summary)
		if len(c.Changes) > 0 {
			var rows [][]string
			for _, ch := range c.Changes {
				before, after := ch.Before, ch.After
				if ch.Redacted {
					before, after = "(exempt business)", "(exempt business)"
				}
				rows = append(rows, []string{ch.Number + ". " + ch.Title, ch.Field, before, after})
			}
			md.table([]string{"Item", "Text", "Before", "After"}, rows)
		}
	}
	if lg := m.Log; lg != nil {
		md.line("## Verification")
		md.blank()
		md.line("%s", verifyText("`"))
		md.blank()
		md.line("- **Log:** %s", mdEscape(lg.Origin))
		md.line("- **Entries:** %d", lg.Size)
		md.line("- **Root hash:** `%s`", lg.RootHash)
		md.line("- **Verifier key:** `%s`", lg.VerifierKey)
		md.blank()
		md.line("```")
		md.line("%s", strings.TrimRight(lg.Checkpoint, "\n"))
		md.line("```")
	}
}

func (md *mdWriter) item(it *Item) {
	m := md.m
	md.line("### %s", mdEscape(itemHeading(it)))
	md.blank()
	if it.Exclusion != nil {
		md.para(m.exclusionText(it))
	}
	if it.Redacted {
		md.para(redactedText)
		return
	}
	if !it.Taken {
		md.para(notTakenText)
	}
	if it.Description != "" {
		md.line("#### Summary")
		md.blank()
		md.text(it.Description)
	}
	for _, dc := range m.ItemDeclarations(it.ID) {
		if dc.Withdraws {
			md.para(withdrawalText(dc))
		}
	}
	if len(it.Speakers) > 0 {
		md.line("#### Public speakers")
		md.blank()
		var items []string
		for _, sp := range it.Speakers {
			items = append(items, speakerText(sp))
		}
		md.list(items)
	}
	if it.Notes != "" {
		md.line("#### Minute")
		md.blank()
		md.text(it.Notes)
	}
	for i := range it.Motions {
		mo := &it.Motions[i]
		md.line("#### %s", motionHeading(mo))
		md.blank()
		for j, p := range paras(mo.Text) {
			if j > 0 {
				md.line(">")
			}
			for k := range p {
				p[k] = mdEscape(p[k])
			}
			md.line("> %s", strings.Join(p, "  \n> "))
		}
		md.blank()
		md.para(strings.TrimSpace(moverText(mo) + " " + motionStatus(mo.Status) + "."))
	}
	for _, ref := range it.VoteRefs() {
		md.line("#### %s", voteHeading(ref))
		md.blank()
		md.vote(ref.Vote)
	}
	if it.Decision != "" {
		md.line("#### Decision")
		md.blank()
		md.text(it.Decision)
	}
}

func (md *mdWriter) vote(v *Vote) {
	m := md.m
	md.para("Question: " + v.Question)
	var rows [][]string
	for _, r := range countRows(v) {
		rows = append(rows, []string{r[0], r[1]})
	}
	md.table([]string{"Vote", "Number"}, rows)
	s := "**Result: " + mdEscape(resultText(v)) + "**"
	if c := castingText(v); c != "" {
		s += " " + mdEscape(c)
	}
	md.line("%s", s)
	md.blank()
	md.para(m.voteFacts(v))
	if len(v.Overrides) > 0 {
		var items []string
		for _, o := range v.Overrides {
			items = append(items, "The chair allowed "+o.Member.Display()+" to vote: "+o.Reason)
		}
		md.list(items)
	}
	if v.Recorded {
		md.line("Recorded vote:")
		md.blank()
		var rows [][]string
		for _, mv := range v.Members {
			rows = append(rows, []string{mv.Display(), mv.Party, choiceLabel(mv), modeLabel(mv.Mode), recordedByText(mv)})
		}
		md.table([]string{"Member", "Party", "Vote", "Attended", "Recorded by"}, rows)
	}
}

// mdEscape escapes the characters that Markdown would read as markup.
func mdEscape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '~', '&':
			b.WriteByte('\\')
		case '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '!':
			if i+1 < len(s) && s[i+1] == '[' {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	out := b.String()
	// "1. " at the start of a line would be read as a list.
	if j := strings.IndexFunc(out, func(r rune) bool { return r < '0' || r > '9' }); j > 0 && (out[j] == '.' || out[j] == ')') {
		out = out[:j] + "\\" + out[j:]
	}
	return out
}

// mdCell escapes text for a table cell, on one line.
func mdCell(s string) string {
	return mdEscape(strings.Join(strings.Fields(s), " "))
}
