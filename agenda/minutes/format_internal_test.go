package minutes

import (
	"bufio"
	"strings"
	"testing"
)

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		name, a, b     string
		added, removed int
	}{
		{"same", "a\nb", "a\nb", 0, 0},
		{"from nothing", "", "a\nb", 2, 0},
		{"to nothing", "a\nb\n", "", 0, 2},
		{"one line changed", "a\nb\nc", "a\nB\nc", 1, 1},
		{"line inserted", "a\nc", "a\nb\nc", 1, 0},
		{"moved", "a\nb", "b\na", 1, 1},
	} {
		if added, removed := diffLines(tc.a, tc.b); added != tc.added || removed != tc.removed {
			t.Errorf("%s: got +%d -%d, want +%d -%d", tc.name, added, removed, tc.added, tc.removed)
		}
	}
}

func TestSummarise(t *testing.T) {
	got := summarise([]Change{{Number: "4", Field: "decision", Added: 2, Removed: 1}, {Number: "6", Field: "notes", Redacted: true}})
	if want := "Item 4 decision: 2 lines added, 1 line removed; item 6 notes changed (exempt business)."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := summarise(nil); got != "No change." {
		t.Errorf("no changes: %q", got)
	}
}

func TestMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":         "plain text",
		"*bold* _it_ `code`": `\*bold\* \_it\_ \` + "`code\\`",
		"# not a heading":    `\# not a heading`,
		"- not a list":       `\- not a list`,
		"1. not a list":      `1\. not a list`,
		"a | b":              `a \| b`,
		"<script>":           `\<script\>`,
		"[link](x)":          `\[link\](x)`,
		"well-known":         "well-known",
	} {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-x": "'-x", "@cmd": "'@cmd", "Cllr A": "Cllr A", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestICalText(t *testing.T) {
	if got, want := icalText("a;b,c\\d\ne"), `a\;b\,c\\d\ne`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	long := "DESCRIPTION:" + strings.Repeat("ŵ", 60) // 2 octets each
	writeFolded(w, long)
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	var joined strings.Builder
	for i, l := range lines {
		if len(l) > 75 {
			t.Errorf("line %d has %d octets", i, len(l))
		}
		if i > 0 {
			if !strings.HasPrefix(l, " ") {
				t.Errorf("continuation line %d does not start with a space", i)
			}
			l = l[1:]
		}
		joined.WriteString(l)
	}
	if joined.String() != long {
		t.Errorf("unfolded %q, want %q", joined.String(), long)
	}
}

func TestDisplay(t *testing.T) {
	for _, tc := range []struct {
		p    Person
		want string
	}{
		{Person{Name: "Eleri Morgan", Title: "Cllr"}, "Cllr Eleri Morgan"},
		{Person{Name: "Gareth Hughes", Title: "Head of Planning"}, "Gareth Hughes"},
		{Person{Name: "Dr Ann Jones", Title: "Dr"}, "Dr Ann Jones"},
		{Person{Name: "Ann Jones"}, "Ann Jones"},
	} {
		if got := tc.p.Display(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.p, got, tc.want)
		}
	}
}
