package minutes

import (
	"fmt"
	"strings"
)

// change describes how one field of an item changed, or reports false if it did not.
func change(it *Item, field, before, after string) (Change, bool) {
	if before == after {
		return Change{}, false
	}
	added, removed := diffLines(before, after)
	return Change{ItemID: it.ID, Number: it.Number, Title: it.Title, Field: field, Before: before, After: after,
		Added: added, Removed: removed}, true
}

// diffLines counts the lines added and removed from a to b: those outside their
// longest common subsequence of lines.
func diffLines(a, b string) (added, removed int) {
	x, y := splitLines(a), splitLines(b)
	if len(x)*len(y) > 4_000_000 {
		// Too long to compare line by line in reasonable time: count lines that are in
		// one text more often than in the other.
		n := map[string]int{}
		for _, l := range x {
			n[l]++
		}
		for _, l := range y {
			n[l]--
		}
		for _, c := range n {
			if c > 0 {
				removed += c
			} else {
				added -= c
			}
		}
		return added, removed
	}
	prev, cur := make([]int, len(y)+1), make([]int, len(y)+1)
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			switch {
			case x[i-1] == y[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	common := prev[len(y)]
	return len(y) - common, len(x) - common
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// summarise says in one line what a correction changed.
func summarise(changes []Change) string {
	if len(changes) == 0 {
		return "No change."
	}
	parts := make([]string, 0, len(changes))
	for _, c := range changes {
		what := fmt.Sprintf("item %s %s", c.Number, c.Field)
		switch {
		case c.Redacted:
			parts = append(parts, what+" changed (exempt business)")
		default:
			parts = append(parts, fmt.Sprintf("%s: %s added, %s removed", what, lines(c.Added), lines(c.Removed)))
		}
	}
	s := strings.Join(parts, "; ") + "."
	return strings.ToUpper(s[:1]) + s[1:]
}

func lines(n int) string {
	if n == 1 {
		return "1 line"
	}
	return fmt.Sprintf("%d lines", n)
}
