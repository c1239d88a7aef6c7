package sqlstore

import "strings"

// A batch of a thousand ballots sends PostgreSQL some half a megabyte of text arrays:
// the ballots, their log entries and hashes, in base64 and hex. lib/pq's StringArray
// quotes every element and grows its buffer as it goes, and building those arrays was
// a sixth of the time the batch's one goroutine took, while every ballot of it waited.
// textArray builds the same array literal in one allocation, quoting only the elements
// PostgreSQL would read otherwise bare, which base64 and hex never are.

// textArray returns elems as a PostgreSQL array literal, for a text[] parameter.
func textArray(elems []string) string {
	n := 2 + len(elems)
	for _, e := range elems {
		n += len(e)
		if mustQuote(e) {
			n += 2 + strings.Count(e, `"`) + strings.Count(e, `\`)
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		if !mustQuote(e) {
			b.WriteString(e)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(e); j++ {
			if e[j] == '"' || e[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(e[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// mustQuote says whether an element of an array literal must be quoted to be read as
// itself: when empty, NULL in any case, or holding a delimiter, brace, quote,
// backslash or white space.
func mustQuote(e string) bool {
	if e == "" || strings.EqualFold(e, "null") {
		return true
	}
	for i := 0; i < len(e); i++ {
		switch e[i] {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}
