package agenda_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda"
)

func TestParseAgendaJSON(t *testing.T) {
	yes := true
	tests := []struct {
		name   string
		in     string
		want   []agenda.ItemInput
		rows   []int
		fields []string // "row:field" of each error
	}{
		{"wrapped", `{"items": [{"title": "Apologies"}, {"number": "5a", "title": "Mill Lane", "kind": "planning",
			"whole_item_presence": true, "papers": [{"title": "Report", "url": "https://example.org/r.pdf"}]}]}`,
			[]agenda.ItemInput{{Title: "Apologies"}, {Number: "5a", Title: "Mill Lane", Kind: agenda.Planning, WholeItemPresence: &yes,
				Papers: []agenda.Paper{{Title: "Report", URL: "https://example.org/r.pdf"}}}},
			[]int{1, 2}, nil},
		{"bare array", `[{"title": "Staffing", "kind": "exempt", "exempt_paragraph": 1}]`,
			[]agenda.ItemInput{{Title: "Staffing", Kind: agenda.Exempt, ExemptParagraph: 1}}, []int{1}, nil},
		{"unknown field, naming its row", `[{"title": "a"}, {"title": "b", "colour": "red"}]`, nil, nil, []string{"2:colour"}},
		{"wrong type, naming its row", `{"items": [{"title": "a"}, {"title": "b"}, {"title": "c", "exempt_paragraph": "one"}]}`,
			nil, nil, []string{"3:exempt_paragraph"}},
		{"unknown top-level field", `{"agenda": []}`, nil, nil, []string{"body"}},
		{"not JSON", `title,number`, nil, nil, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := agenda.ParseAgendaJSON(strings.NewReader(tt.in))
			if tt.fields != nil {
				if !is(err, agenda.ErrInvalid) {
					t.Fatalf("got %v, want invalid", err)
				}
				same(t, "fields", fieldErrors(err), tt.fields)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			same(t, "items", f.Items, tt.want)
			same(t, "rows", f.Rows, tt.rows)
		})
	}
}

func TestParseAgendaCSV(t *testing.T) {
	no := false
	tests := []struct {
		name   string
		in     string
		want   []agenda.ItemInput
		rows   []int
		fields []string
	}{
		{"every column, a byte-order mark, blank lines and spaces",
			"\ufeffNumber, Title,description,kind,exempt_paragraph,whole_item_presence,papers\n" +
				"1,Apologies,,,,,\n" +
				"\n" +
				",,,,,,\n" +
				"2,Mill Lane,12 dwellings,Planning,,no,Report <https://example.org/r.pdf>; https://example.org/plans/site.pdf\n" +
				"3,Staffing,,exempt,1,,\n",
			[]agenda.ItemInput{
				{Number: "1", Title: "Apologies"},
				{Number: "2", Title: "Mill Lane", Description: "12 dwellings", Kind: agenda.Planning, WholeItemPresence: &no,
					Papers: []agenda.Paper{{Title: "Report", URL: "https://example.org/r.pdf"}, {Title: "site.pdf", URL: "https://example.org/plans/site.pdf"}}},
				{Number: "3", Title: "Staffing", Kind: agenda.Exempt, ExemptParagraph: 1},
			},
			[]int{2, 5, 6}, nil},
		{"title only", "title\nApologies\nMinutes\n", []agenda.ItemInput{{Title: "Apologies"}, {Title: "Minutes"}}, []int{2, 3}, nil},
		{"bad cells name their spreadsheet row and column",
			"title,exempt_paragraph,whole_item_presence,papers\n" +
				"Fine,,,\n" +
				"Bad paragraph,one,,\n" +
				"Bad flag,,maybe,\n" +
				"Bad papers,,,Report <https://example.org\n",
			nil, nil, []string{"3:exempt_paragraph", "4:whole_item_presence", "5:papers"}},
		{"a row longer than the header", "title\nA\nB,extra\n", nil, nil, []string{"3:row"}},
		{"unknown column", "title,colour\nA,red\n", nil, nil, []string{"1:colour"}},
		{"no title column", "number\n1\n", nil, nil, []string{"1:title"}},
		{"a column twice", "title,title\nA,B\n", nil, nil, []string{"1:title"}},
		{"empty file", "", nil, nil, []string{"header"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := agenda.ParseAgendaCSV(strings.NewReader(tt.in))
			if tt.fields != nil {
				if !is(err, agenda.ErrInvalid) {
					t.Fatalf("got %v, want invalid", err)
				}
				same(t, "fields", fieldErrors(err), tt.fields)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.Items {
				if len(f.Items[i].Papers) == 0 {
					f.Items[i].Papers = nil
				}
			}
			same(t, "items", f.Items, tt.want)
			same(t, "rows", f.Rows, tt.rows)
		})
	}
}

func testImportAgenda(t *testing.T, w *world) {
	t.Run("a good CSV file", func(t *testing.T) {
		m, _ := w.meeting(true, agenda.ItemInput{Title: "Already there"})
		f, err := agenda.ParseAgendaCSV(strings.NewReader("number,title,kind,exempt_paragraph\n,Apologies,,\n7,Mill Lane,planning,\n,Staffing,exempt,2\n"))
		w.must(err)
		res, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, f, false)
		w.must(err)
		if res.Replaced || len(res.Items) != 3 {
			t.Fatalf("result: got %+v", res)
		}
		w.checkPublished(t, m.ID, m.LastSeq, agenda.EvAgendaImported)
		var got []string
		for _, it := range w.items(m.ID) {
			got = append(got, it.Number+" "+it.Title+" "+string(it.Kind))
		}
		same(t, "agenda", got, []string{"1 Already there standard", "2 Apologies standard", "7 Mill Lane planning", "4 Staffing exempt"})
		// The committee's profile (england) asks planning items for presence throughout.
		if its := w.items(m.ID); !its[2].WholeItemPresence || its[1].WholeItemPresence {
			t.Errorf("whole-item presence: got %v for the planning item and %v for the other", its[2].WholeItemPresence, its[1].WholeItemPresence)
		}
	})

	t.Run("a good JSON file replacing the agenda", func(t *testing.T) {
		m, _ := w.meeting(true, agenda.ItemInput{Title: "Old"}, agenda.ItemInput{Title: "Older"})
		f, err := agenda.ParseAgendaJSON(strings.NewReader(`{"items": [{"title": "New"}]}`))
		w.must(err)
		res, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, f, true)
		w.must(err)
		if !res.Replaced {
			t.Error("Replaced: got false")
		}
		its := w.items(m.ID)
		if len(its) != 1 || its[0].Title != "New" || its[0].Position != 1 {
			t.Errorf("agenda after replace: got %+v", its)
		}
	})

	t.Run("any bad row rejects the whole file, naming each row and field", func(t *testing.T) {
		m, _ := w.meeting(true, agenda.ItemInput{Title: "Already there"})
		f, err := agenda.ParseAgendaCSV(strings.NewReader("title,kind,exempt_paragraph\nGood,,\n,planning,\nExempt without paragraph,exempt,\nStandard with paragraph,,3\nAlso good,,\n"))
		w.must(err)
		_, err = w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, f, false)
		same(t, "fields", fieldErrors(err), []string{"3:title", "4:exempt_paragraph", "5:exempt_paragraph"})
		if its := w.items(m.ID); len(its) != 1 {
			t.Errorf("items after a rejected import: got %d, want 1", len(its))
		}
		w.checkPublished(t, m.ID, m.LastSeq)
		if _, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, agenda.AgendaFile{}, false); !is(err, agenda.ErrInvalid) {
			t.Errorf("an empty file: got %v, want invalid", err)
		}
	})

	t.Run("a failure part-way writes nothing", func(t *testing.T) {
		m, _ := w.meeting(true, agenda.ItemInput{Title: "Already there"})
		w.store.failNext("CreateItem", 2)
		in := agenda.AgendaFile{Items: []agenda.ItemInput{{Title: "a"}, {Title: "b"}, {Title: "c"}, {Title: "d"}}}
		if _, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, in, true); !is(err, errInjected) {
			t.Fatalf("got %v, want the injected failure", err)
		}
		its := w.items(m.ID)
		if len(its) != 1 || its[0].Title != "Already there" {
			t.Errorf("agenda after a failed import: got %+v", its)
		}
		w.checkPublished(t, m.ID, m.LastSeq)
		if got := w.get(m.ID).LastSeq; got != m.LastSeq {
			t.Errorf("LastSeq: got %d, want %d", got, m.LastSeq)
		}
	})

	t.Run("no replacing once the meeting has started", func(t *testing.T) {
		m, _ := w.meeting(true, agenda.ItemInput{Title: "Already there"})
		_, err := w.svc.StartMeeting(w.ctx, w.clerk, m.ID)
		w.must(err)
		in := agenda.AgendaFile{Items: []agenda.ItemInput{{Title: "New"}}}
		if _, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, in, true); !is(err, agenda.ErrConflict) {
			t.Errorf("replace after the start: got %v, want a conflict", err)
		}
		if _, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, in, false); err != nil {
			t.Errorf("add after the start: %v", err)
		}
	})
}

// TestParseAgendaCSVMalformed feeds CSV that does not parse: the error names the row,
// and the parser does not fall over.
func TestParseAgendaCSVMalformed(t *testing.T) {
	for _, in := range []string{"title\n\"unterminated\n", "title,number\nFine,1\nBad\"quote,2\n"} {
		t.Run(in, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("ParseAgendaCSV panicked on a malformed file: %v", p)
				}
			}()
			_, err := agenda.ParseAgendaCSV(strings.NewReader(in))
			if !is(err, agenda.ErrInvalid) || len(fieldErrors(err)) == 0 {
				t.Errorf("got %v, want an error naming the row", err)
			}
		})
	}
}

// TestParseAgendaCSVRowsAcrossLineBreaks: a cell with line breaks in it is one row of
// the spreadsheet, so the rows after it keep their spreadsheet numbers.
func TestParseAgendaCSVRowsAcrossLineBreaks(t *testing.T) {
	in := "title,kind\n\"Long\ntitle\nover three lines\",standard\n\nNext,planning\n"
	f, err := agenda.ParseAgendaCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 4}; !slices.Equal(f.Rows, want) {
		t.Errorf("rows: got %v, want %v (header 1, item 2, blank 3, item 4)", f.Rows, want)
	}
	if got := f.Items[0].Title; got != "Long\ntitle\nover three lines" {
		t.Errorf("title: got %q", got)
	}
}
