package minutes

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"
)

// htmlTemplate is the minutes page, parsed once.
var htmlTemplate = sync.OnceValues(func() (*template.Template, error) {
	return template.New("minutes.html").Funcs(htmlFuncs).ParseFS(templates, "templates/minutes.html")
})

// voteView is what the template's "vote" block reads.
type voteView struct {
	M *Minutes
	V *Vote
}

var htmlFuncs = template.FuncMap{
	"title":         func(m *Minutes) string { return m.title() },
	"statusLine":    func(m *Minutes) string { return m.statusLine() },
	"approval":      func(m *Minutes) string { return m.approvalText() },
	"date":          func(m *Minutes, t time.Time) string { return m.date(t) },
	"dateTime":      func(m *Minutes, t time.Time) string { return m.dateTime(t) },
	"clock":         func(m *Minutes, t time.Time) string { return m.clock(t) },
	"iso":           func(m *Minutes, t time.Time) string { return m.iso(t) },
	"span":          func(m *Minutes) string { return m.span() },
	"quorum":        func(m *Minutes) string { return m.quorumText() },
	"zoneNote":      func(m *Minutes) string { return m.zoneNote() },
	"stretches":     func(m *Minutes, a Attendee) string { return m.stretches(a) },
	"exclusion":     func(m *Minutes, it Item) string { return m.exclusionText(&it) },
	"itemDecls":     func(m *Minutes, id int64) []Declaration { return m.ItemDeclarations(id) },
	"voteFacts":     func(m *Minutes, v *Vote) string { return m.voteFacts(v) },
	"voteOf":        func(m *Minutes, v *Vote) voteView { return voteView{M: m, V: v} },
	"voteRefs":      func(it Item) []VoteRef { return it.VoteRefs() },
	"voteHeading":   voteHeading,
	"role":          roleLabel,
	"officerRole":   officerRole,
	"mode":          modeLabel,
	"interest":      interestLabel,
	"declDetail":    declarationDetail,
	"declItem":      declarationItem,
	"yesNo":         yesNo,
	"speaker":       speakerText,
	"withdrawal":    withdrawalText,
	"itemHeading":   func(it Item) string { return itemHeading(&it) },
	"motionHeading": func(mo Motion) string { return motionHeading(&mo) },
	"mover":         func(mo Motion) string { return moverText(&mo) },
	"motionStatus":  motionStatus,
	"countRows":     countRows,
	"result":        resultText,
	"casting":       castingText,
	"choice":        choiceLabel,
	"recordedBy":    recordedByText,
	"paras":         paras,
	"redacted":      func() string { return redactedText },
	"notTaken":      func() string { return notTakenText },
	"verifyText":    func() string { return verifyText("") },
}

// WriteHTML writes the minutes as an accessible HTML page: one document with a
// language, headings in order, tables with captions and header scopes, and no script,
// readable in any browser and in print. It is the public minutes page when given the
// public view.
func WriteHTML(w io.Writer, m *Minutes) error {
	t, err := htmlTemplate()
	if err != nil {
		return fmt.Errorf("minutes page template: %w", err)
	}
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, m); err != nil {
		return fmt.Errorf("write minutes page: %w", err)
	}
	return bw.Flush()
}
