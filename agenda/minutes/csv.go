package minutes

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSVHeader names the columns of the CSV of votes.
var CSVHeader = []string{
	"meeting_id", "meeting_date", "committee", "item_number", "item_title", "poll_id", "question",
	"motion_id", "motion", "recorded_vote", "member_id", "member", "party", "role", "attendance_mode",
	"status", "choice", "recorded_by", "recorder", "casting", "log_index", "outcome",
}

// Values of the CSV's status and recorded_by columns.
const (
	StatusVoted     = "voted"
	StatusAbsent    = "absent"
	StatusNotVoting = "not_voting"

	ByMember = "member" // cast on the member's own device
	ByClerk  = "clerk"  // recorded by the clerk in the room
	ByProxy  = "proxy"  // cast by the holder of the member's proxy
)

// WriteCSV writes the votes as CSV (RFC 4180), one row per member per vote: how each
// seat's holder voted (status voted, with the choice), or that they were absent or
// present and not voting; and a row of its own for a casting vote (casting true). Counts
// of the rows agree with the counts of the vote. Cells that a spreadsheet would read as
// a formula are prefixed with an apostrophe.
func WriteCSV(w io.Writer, m *Minutes) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write votes CSV: %w", err)
	}
	date := m.local(m.Meeting.StartsAt).Format("2006-01-02")
	for _, ref := range m.Votes() {
		v := ref.Vote
		motionID, motion := "", ""
		if ref.Motion != nil {
			motionID, motion = strconv.FormatInt(ref.Motion.ID, 10), ref.Motion.Text
		}
		common := []string{strconv.FormatInt(m.Meeting.ID, 10), date, m.Meeting.Committee.Name, ref.Item.Number, ref.Item.Title,
			strconv.FormatInt(v.PollID, 10), v.Question, motionID, motion, strconv.FormatBool(v.Recorded)}
		row := func(p Person, role, mode, status, choice, by string, recorder *Person, casting bool, index *int64) error {
			rec := ""
			if recorder != nil {
				rec = recorder.Name
			}
			idx := ""
			if index != nil {
				idx = strconv.FormatInt(*index, 10)
			}
			cells := append(append([]string(nil), common...), strconv.FormatInt(p.ID, 10), p.Name, p.Party, role, mode,
				status, choice, by, rec, strconv.FormatBool(casting), idx, string(v.Outcome))
			for i := range cells {
				cells[i] = csvSafe(cells[i])
			}
			return cw.Write(cells)
		}
		for _, mv := range v.Members {
			status, by := StatusVoted, ""
			switch {
			case mv.Absent:
				status = StatusAbsent
			case !mv.Voted():
				status = StatusNotVoting
			case mv.RecordedBy != nil:
				by = ByClerk
			case mv.Proxy != nil:
				by = ByProxy
			default:
				by = ByMember
			}
			recorder := mv.RecordedBy
			if recorder == nil {
				recorder = mv.Proxy
			}
			if err := row(mv.Person, mv.Role, string(mv.Mode), status, mv.Choice, by, recorder, false, mv.LogIndex); err != nil {
				return fmt.Errorf("write votes CSV: %w", err)
			}
		}
		if c := v.Casting; c != nil {
			by := ByMember
			if c.RecordedBy != nil {
				by = ByClerk
			}
			role := ""
			for _, mv := range v.Members {
				if mv.ID == c.ID {
					role = mv.Role
				}
			}
			idx := c.LogIndex
			if err := row(c.Person, role, "", StatusVoted, c.Choice, by, c.RecordedBy, true, &idx); err != nil {
				return fmt.Errorf("write votes CSV: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write votes CSV: %w", err)
	}
	return bw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
