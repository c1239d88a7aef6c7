// Package minutestest holds what tests of the minutes' exports share, wherever the
// exports are made: the text of a PDF as a reader extracts it, the tally of a votes
// CSV, and the Popolo vote-event schema the JSON must validate against.
package minutestest

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chamber/chamber/agenda/minutes"
)

//go:embed popolo-vote-event.schema.json
var popoloSchema []byte

// PopoloSchema returns the Popolo vote-event schema, compiled with its formats
// asserted.
func PopoloSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(popoloSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("popolo-vote-event.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("popolo-vote-event.schema.json")
	if err != nil {
		t.Fatalf("compile the Popolo schema: %v", err)
	}
	return s
}

// CSVTally counts the votes CSV's rows per poll id and Popolo option (absent and
// not voting included), and gives each poll's casting vote, as a Popolo option.
func CSVTally(t testing.TB, b []byte) (counts map[string]map[string]int, casting map[string]string) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v", err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], minutes.CSVHeader) {
		t.Fatalf("CSV header %v", rows[:min(len(rows), 1)])
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	counts, casting = map[string]map[string]int{}, map[string]string{}
	for _, r := range rows[1:] {
		poll := r[col["poll_id"]]
		if counts[poll] == nil {
			counts[poll] = map[string]int{}
		}
		if r[col["casting"]] == "true" {
			casting[poll] = minutes.PopoloOption(r[col["choice"]])
			continue
		}
		switch r[col["status"]] {
		case minutes.StatusAbsent:
			counts[poll][minutes.PopoloAbsent]++
		case minutes.StatusNotVoting:
			counts[poll][minutes.PopoloNotVoting]++
		default:
			counts[poll][minutes.PopoloOption(r[col["choice"]])]++
		}
	}
	return counts, casting
}

// CSVAgreesWithPopolo checks that the votes CSV and the Popolo JSON of the same
// minutes tell the same story: the same polls, each with the same counts per option
// (which its individual votes also add up to) and the same casting vote.
func CSVAgreesWithPopolo(t testing.TB, view string, csvData, popoloData []byte) {
	t.Helper()
	csvCounts, csvCasting := CSVTally(t, csvData)
	var doc minutes.Popolo
	if err := json.Unmarshal(popoloData, &doc); err != nil {
		t.Fatalf("%s Popolo: %v", view, err)
	}
	if len(csvCounts) != len(doc.VoteEvents) {
		t.Errorf("%s: the CSV has %d polls, Popolo %d", view, len(csvCounts), len(doc.VoteEvents))
	}
	for _, ev := range doc.VoteEvents {
		poll := ev.Identifier
		counts, votes := map[string]int{}, map[string]int{}
		for _, c := range ev.Counts {
			if c.Value > 0 {
				counts[c.Option] = c.Value
			}
		}
		casting := ""
		for _, v := range ev.Votes {
			if v.Extras.Casting {
				casting = v.Option
				continue
			}
			votes[v.Option]++
		}
		if fmt.Sprint(counts) != fmt.Sprint(csvCounts[poll]) {
			t.Errorf("%s poll %s: Popolo counts %v, the CSV's rows %v", view, poll, counts, csvCounts[poll])
		}
		if fmt.Sprint(counts) != fmt.Sprint(votes) {
			t.Errorf("%s poll %s: Popolo counts %v, its votes %v", view, poll, counts, votes)
		}
		if casting != csvCasting[poll] || casting != ev.Extras.CastingVote {
			t.Errorf("%s poll %s: casting vote %q in Popolo's votes, %q in its extras, %q in the CSV", view, poll, casting, ev.Extras.CastingVote, csvCasting[poll])
		}
	}
}

// PDFText extracts the text of a PDF, a line per text object, pages separated by a
// form feed. It reads the PDF with github.com/ledongthuc/pdf and decodes each font's
// ToUnicode CMap itself, in full: the library's own decoding of a CMap range only
// works within 256 codes, which the Unicode fonts in our PDFs exceed.
func PDFText(t testing.TB, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read PDF: %v", err)
	}
	var out strings.Builder
	for n := 1; n <= r.NumPage(); n++ {
		if n > 1 {
			out.WriteString("\f\n")
		}
		page := r.Page(n)
		cmaps := map[string]*toUnicode{}
		fonts := page.Resources().Key("Font")
		for _, name := range fonts.Keys() {
			cmaps[name] = readToUnicode(fonts.Key(name).Key("ToUnicode"), fonts.Key(name))
		}
		var cur *toUnicode
		var line strings.Builder
		pdf.Interpret(page.V.Key("Contents"), func(stk *pdf.Stack, op string) {
			args := make([]pdf.Value, stk.Len())
			for i := len(args) - 1; i >= 0; i-- {
				args[i] = stk.Pop()
			}
			switch op {
			case "Tf":
				cur = cmaps[args[0].Name()]
			case "Tj":
				line.WriteString(cur.decode(args[0].RawString()))
			case "TJ":
				for i := 0; i < args[0].Len(); i++ {
					if x := args[0].Index(i); x.Kind() == pdf.String {
						line.WriteString(cur.decode(x.RawString()))
					}
				}
			case "ET":
				if s := strings.TrimSpace(line.String()); s != "" {
					out.WriteString(s)
					out.WriteByte('\n')
				}
				line.Reset()
			}
		})
	}
	return out.String()
}

// toUnicode is a font's ToUnicode CMap: two-byte codes to text.
type toUnicode struct {
	chars  map[uint16][]uint16
	ranges []cmapRange
}

type cmapRange struct {
	lo, hi uint16
	dst    []uint16 // UTF-16 of the first code's text
}

// readToUnicode reads a ToUnicode CMap; scratch is any dictionary, which stands in for
// the dictionaries the CMap's PostScript makes (the library's Interpret wants one).
func readToUnicode(v, scratch pdf.Value) *toUnicode {
	m := &toUnicode{chars: map[uint16][]uint16{}}
	if v.Kind() != pdf.Stream {
		return nil
	}
	code := func(s string) uint16 {
		if len(s) == 1 {
			return uint16(s[0])
		}
		return binary.BigEndian.Uint16([]byte(s[len(s)-2:]))
	}
	utf := func(s string) []uint16 {
		var u []uint16
		for i := 0; i+1 < len(s); i += 2 {
			u = append(u, binary.BigEndian.Uint16([]byte(s[i:i+2])))
		}
		return u
	}
	n := 0
	pdf.Interpret(v, func(stk *pdf.Stack, op string) {
		switch op {
		case "findresource":
			stk.Pop()
			stk.Pop()
			stk.Push(scratch)
		case "begincmap":
			stk.Push(scratch)
		case "endcmap":
			stk.Pop()
		case "defineresource":
			stk.Pop()
			val := stk.Pop()
			stk.Pop()
			stk.Push(val)
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			n = int(stk.Pop().Int64())
		case "endcodespacerange":
			for i := 0; i < n; i++ {
				stk.Pop()
				stk.Pop()
			}
		case "endbfchar":
			for i := 0; i < n; i++ {
				dst, src := stk.Pop().RawString(), stk.Pop().RawString()
				m.chars[code(src)] = utf(dst)
			}
		case "endbfrange":
			for i := 0; i < n; i++ {
				dst, hi, lo := stk.Pop(), stk.Pop().RawString(), stk.Pop().RawString()
				if dst.Kind() == pdf.String {
					m.ranges = append(m.ranges, cmapRange{lo: code(lo), hi: code(hi), dst: utf(dst.RawString())})
				}
			}
		}
	})
	return m
}

func (m *toUnicode) decode(raw string) string {
	if m == nil {
		return raw
	}
	var u []uint16
	for i := 0; i+1 < len(raw); i += 2 {
		c := binary.BigEndian.Uint16([]byte(raw[i : i+2]))
		if d, ok := m.chars[c]; ok {
			u = append(u, d...)
			continue
		}
		for _, r := range m.ranges {
			if r.lo <= c && c <= r.hi && len(r.dst) > 0 {
				d := append([]uint16(nil), r.dst...)
				d[len(d)-1] += c - r.lo
				u = append(u, d...)
				break
			}
		}
	}
	return string(utf16.Decode(u))
}
