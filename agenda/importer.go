package agenda

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// AgendaFile is a parsed agenda file: its items, and for each the row number to name in
// errors (the spreadsheet row for CSV, counting the header as row 1; the item's 1-based
// index for JSON).
type AgendaFile struct {
	Items []ItemInput
	Rows  []int
}

// CSVColumns are the columns an agenda CSV may have; title is required.
var CSVColumns = []string{"number", "title", "description", "kind", "exempt_paragraph", "whole_item_presence", "papers"}

// ParseAgendaJSON reads {"items": [...]} or a bare array of items. Unknown fields are
// errors, so that a misspelt field is not silently dropped.
func ParseAgendaJSON(r io.Reader) (AgendaFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return AgendaFile{}, err
	}
	data = bytes.TrimSpace(data)
	var raw []json.RawMessage
	if len(data) > 0 && data[0] == '[' {
		err = json.Unmarshal(data, &raw)
	} else {
		var wrapper struct {
			Items []json.RawMessage `json:"items"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&wrapper)
		raw = wrapper.Items
	}
	if err != nil {
		return AgendaFile{}, invalid("body", "not an agenda in JSON: %v", err)
	}
	var f AgendaFile
	var c checker
	for i, item := range raw {
		c.row = i + 1
		var in ItemInput
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			field, msg := jsonFieldError(err)
			c.add(field, "%s", msg)
			continue
		}
		f.Items = append(f.Items, in)
		f.Rows = append(f.Rows, i+1)
	}
	return f, c.err()
}

// jsonFieldError names the field a JSON decoding error is about.
func jsonFieldError(err error) (field, msg string) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field, "must be " + jsonTypeName(te.Type.Kind().String())
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(s, `"`), "is not a known field"
	}
	return "item", err.Error()
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int64":
		return "a whole number"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return "a " + kind
}

// ParseAgendaCSV reads an agenda with one row per item and a header row naming columns
// from CSVColumns. Papers are "Title <https://…>" entries separated by semicolons.
func ParseAgendaCSV(r io.Reader) (AgendaFile, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return AgendaFile{}, invalid("header", "the file is empty")
	}
	if err != nil {
		return AgendaFile{}, invalid("header", "%v", err)
	}
	col := map[string]int{}
	var c checker
	c.row = 1
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case !slices.Contains(CSVColumns, h):
			c.add(h, "is not a known column; columns are %s", strings.Join(CSVColumns, ", "))
		case col[h] != 0:
			c.add(h, "appears twice")
		default:
			col[h] = i + 1
		}
	}
	if col["title"] == 0 {
		c.add("title", "the header has no title column")
	}
	if err := c.err(); err != nil {
		return AgendaFile{}, err
	}
	get := func(rec []string, name string) string {
		i := col[name]
		if i == 0 || i > len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i-1])
	}
	var f AgendaFile
	// Rows are numbered as a spreadsheet shows them: the header is row 1, a blank line
	// is a row, and a cell with a line break in it does not make its row two. breaks
	// counts the line breaks inside the cells read so far.
	breaks := strings.Count(strings.Join(header, ""), "\n")
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				c.row = pe.StartLine - breaks
				c.add("row", "%v (line %d of the file)", pe.Err, pe.Line)
			} else {
				c.add("row", "%v", err)
			}
			break
		}
		line, _ := cr.FieldPos(0)
		row := line - breaks
		c.row = row
		breaks += strings.Count(strings.Join(rec, ""), "\n")
		if len(rec) > len(header) {
			c.add("row", "has %d fields; the header has %d", len(rec), len(header))
			continue
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // blank lines in spreadsheets are common
		}
		in := ItemInput{Number: get(rec, "number"), Title: get(rec, "title"), Description: get(rec, "description"), Kind: ItemKind(strings.ToLower(get(rec, "kind")))}
		if p := get(rec, "exempt_paragraph"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				c.add("exempt_paragraph", "must be a whole number")
			}
			in.ExemptParagraph = n
		}
		if b := get(rec, "whole_item_presence"); b != "" {
			v, ok := parseBool(b)
			if !ok {
				c.add("whole_item_presence", "must be yes or no")
			}
			in.WholeItemPresence = &v
		}
		papers, err := parsePapers(get(rec, "papers"))
		if err != nil {
			c.add("papers", "%v", err)
		}
		in.Papers = papers
		f.Items = append(f.Items, in)
		f.Rows = append(f.Rows, row)
	}
	return f, c.err()
}

func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "1":
		return true, true
	case "no", "n", "false", "0":
		return false, true
	}
	return false, false
}

// parsePapers reads "Title <URL>; Other <URL>" or bare URLs, titled by their file name.
func parsePapers(cell string) ([]Paper, error) {
	var out []Paper
	for entry := range strings.SplitSeq(cell, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		title, rest, ok := strings.Cut(entry, "<")
		if !ok {
			u, err := url.Parse(entry)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("%q is neither \"Title <URL>\" nor a URL", entry)
			}
			out = append(out, Paper{Title: path.Base(u.Path), URL: entry})
			continue
		}
		link, ok := strings.CutSuffix(strings.TrimSpace(rest), ">")
		if !ok {
			return nil, fmt.Errorf("%q: the URL must end with >", entry)
		}
		out = append(out, Paper{Title: strings.TrimSpace(title), URL: strings.TrimSpace(link)})
	}
	return out, nil
}
