package minutes

import (
	"fmt"
	"io"
)

// Format is an export format of the minutes.
type Format string

// Export formats.
const (
	FormatHTML     Format = "html"
	FormatMarkdown Format = "md"
	FormatPDF      Format = "pdf"
	FormatCSV      Format = "csv"
	FormatPopolo   Format = "popolo"
	FormatRecord   Format = "record"
)

// Formats lists every export format of the minutes.
var Formats = []Format{FormatHTML, FormatMarkdown, FormatPDF, FormatCSV, FormatPopolo, FormatRecord}

// ContentType returns the media type of an export format.
func (f Format) ContentType() string {
	switch f {
	case FormatHTML:
		return "text/html; charset=utf-8"
	case FormatMarkdown:
		return "text/markdown; charset=utf-8"
	case FormatPDF:
		return "application/pdf"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatPopolo, FormatRecord:
		return "application/json"
	}
	return "application/octet-stream"
}

// Extension returns the usual file name extension of an export format.
func (f Format) Extension() string {
	switch f {
	case FormatPopolo:
		return ".popolo.json"
	case FormatRecord:
		return ".record.json"
	}
	return "." + string(f)
}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	if s == "markdown" {
		return FormatMarkdown, nil
	}
	return "", invalid("unknown format %q; the formats are html, md, pdf, csv, popolo and record", s)
}

// Export writes the minutes in format f.
func Export(w io.Writer, m *Minutes, f Format) error {
	switch f {
	case FormatHTML:
		return WriteHTML(w, m)
	case FormatMarkdown:
		return WriteMarkdown(w, m)
	case FormatPDF:
		return WritePDF(w, m)
	case FormatCSV:
		return WriteCSV(w, m)
	case FormatPopolo:
		return WritePopolo(w, m)
	case FormatRecord:
		return WriteRecord(w, m)
	}
	return fmt.Errorf("export minutes: %w", invalid("unknown format %q", f))
}
