package minutes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/chamber/chamber/voting"
)

// WriteRecord writes the meeting's vote record attached to the minutes (Service.Export
// attaches it) as JSON: the record that `chamber verify` checks. Its view follows the
// minutes': the public record withholds the polls on exempt business, by hash, and
// still verifies whole. A meeting that held no vote has no record (ErrNotFound).
func WriteRecord(w io.Writer, m *Minutes) error {
	if m.Record == nil {
		return fmt.Errorf("record of meeting %d: no vote record attached (the meeting held no vote, or the minutes were not read for export): %w",
			m.MeetingID, ErrNotFound)
	}
	if err := writeRecord(w, m.Record); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// writeRecord writes rec as indented JSON, exactly as json.MarshalIndent(rec, "", "  ")
// would, but encodes its polls, which hold nearly all of it, one at a time: a large
// meeting's record then needs no buffer of its whole size.
func writeRecord(w io.Writer, rec *voting.Record) error {
	shell := *rec
	shell.Polls = []voting.RecordPoll{}
	b, err := json.MarshalIndent(&shell, "", "  ")
	if err != nil {
		return err
	}
	// The empty list marks where the polls go: a string holding these bytes would be
	// escaped, and no other field of the record is named polls.
	const mark = "\n  \"polls\": []"
	i := bytes.Index(b, []byte(mark))
	if i < 0 || len(rec.Polls) == 0 {
		return writeJSON(w, rec)
	}
	bw := bufio.NewWriter(w)
	bw.Write(b[:i])
	bw.WriteString("\n  \"polls\": [\n")
	for j := range rec.Polls {
		pb, err := json.MarshalIndent(&rec.Polls[j], "    ", "  ")
		if err != nil {
			return err
		}
		bw.WriteString("    ")
		bw.Write(pb)
		if j < len(rec.Polls)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("  ]")
	bw.Write(b[i+len(mark):])
	bw.WriteByte('\n')
	return bw.Flush()
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return err
	}
	return nil
}
