package agenda

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ConductCode is a code of conduct for members, which says what kinds of interest they
// declare. A committee's rules profile names the code it follows.
type ConductCode string

// Codes of conduct. The Scotland and France presets take England's kinds of interest:
// Chamber describes no code of theirs.
const (
	// EnglandCode: the Localism Act 2011 ss.27–34 with a local code after the LGA Model
	// Councillor Code of Conduct 2020: disclosable pecuniary interests, other
	// registrable interests and non-registrable interests.
	EnglandCode ConductCode = "england"
	// WalesCode: the Local Authorities (Model Code of Conduct) (Wales) Order 2008
	// (SI 2008/788): personal and prejudicial interests.
	WalesCode ConductCode = "wales"
)

var conductCodes = []ConductCode{EnglandCode, WalesCode}

// ConductCodes returns the known codes of conduct.
func ConductCodes() []ConductCode { return slices.Clone(conductCodes) }

// Valid reports whether c is a known code of conduct.
func (c ConductCode) Valid() bool { return slices.Contains(conductCodes, c) }

// Kinds returns the kinds of interest members declare under the code, in the order a
// form offers them.
func (c ConductCode) Kinds() []DeclarationKind {
	switch c {
	case WalesCode:
		return []DeclarationKind{Personal, Prejudicial}
	case EnglandCode:
		return []DeclarationKind{Pecuniary, Registrable, NonRegistrable}
	}
	return nil
}

// Allows reports whether members declare interests of kind k under the code.
func (c ConductCode) Allows(k DeclarationKind) bool { return slices.Contains(c.Kinds(), k) }

// String names the code for people: "England's code of conduct (Localism Act 2011)".
func (c ConductCode) String() string {
	switch c {
	case EnglandCode:
		return "England's code of conduct (Localism Act 2011)"
	case WalesCode:
		return "the Welsh code of conduct (Model Code of Conduct (Wales) Order 2008)"
	}
	return fmt.Sprintf("code of conduct %q", string(c))
}

// checkKind adds a field error to c unless members declare interests of kind k under
// the code.
func (c ConductCode) checkKind(ch *checker, k DeclarationKind) {
	if c.Allows(k) {
		return
	}
	kinds := c.Kinds()
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = string(k)
	}
	list := strings.Join(words, ", ")
	if n := len(words); n > 1 {
		list = strings.Join(words[:n-1], ", ") + " or " + words[n-1]
	}
	ch.add("kind", "%q is not a kind of interest under %s: declare %s", k, c, list)
}

// DeclarationKind is the kind of interest declared. Which kinds a member may declare
// depends on the code of conduct the committee's rules profile follows.
type DeclarationKind string

// Declaration kinds.
const (
	// Pecuniary is a disclosable pecuniary interest (England): the member may not take
	// part in the discussion or vote without a dispensation (Localism Act 2011 ss.31–33).
	Pecuniary DeclarationKind = "pecuniary"
	// Registrable is an other registrable interest (England): it bars the member only if
	// they withdraw for it.
	Registrable DeclarationKind = "registrable"
	// NonRegistrable is a non-registrable interest (England): it bars the member only if
	// they withdraw for it.
	NonRegistrable DeclarationKind = "non_registrable"
	// Personal is a personal interest (Wales, Model Code 2008 para 10): declared, it does
	// not bar the member on its own.
	Personal DeclarationKind = "personal"
	// Prejudicial is a personal interest that a member of the public would reasonably
	// think so significant as to be likely to prejudice the member's judgement (Wales,
	// Model Code 2008 para 12): the member withdraws and may not take part or vote,
	// unless the standards committee granted a dispensation (para 14).
	Prejudicial DeclarationKind = "prejudicial"
	// OtherInterest is a kind that earlier records may carry; no code offers it.
	OtherInterest DeclarationKind = "other"
)

// Valid reports whether k is a known declaration kind, under any code.
func (k DeclarationKind) Valid() bool {
	switch k {
	case Pecuniary, Registrable, NonRegistrable, Personal, Prejudicial, OtherInterest:
		return true
	}
	return false
}

// Label names the kind for people: "Disclosable pecuniary interest".
func (k DeclarationKind) Label() string {
	switch k {
	case Pecuniary:
		return "Disclosable pecuniary interest"
	case Registrable:
		return "Other registrable interest"
	case NonRegistrable:
		return "Non-registrable interest"
	case Personal:
		return "Personal interest"
	case Prejudicial:
		return "Prejudicial interest"
	case OtherInterest:
		return "Other interest"
	}
	return string(k)
}

// Bars reports whether an interest of this kind bars the member from the item unless a
// dispensation was granted: a disclosable pecuniary interest, or a prejudicial one.
func (k DeclarationKind) Bars() bool { return k == Pecuniary || k == Prejudicial }

// Declaration is a member's declaration of interest, at the start of the meeting
// (ItemID 0) or on one item.
type Declaration struct {
	ID          int64           `json:"id" db:"id"`
	MeetingID   int64           `json:"meeting_id" db:"meeting_id"`
	ItemID      int64           `json:"item_id,omitempty" db:"item_id"`
	UserID      int64           `json:"user_id" db:"user_id"`
	Kind        DeclarationKind `json:"kind" db:"kind"`
	Description string          `json:"description" db:"description"`
	// Withdraws says the member leaves the room for the item.
	Withdraws bool `json:"withdraws" db:"withdraws"`
	// Dispensation, when not empty, describes the dispensation granted (Localism Act
	// 2011 s.33 in England; by the standards committee in Wales).
	Dispensation string    `json:"dispensation" db:"dispensation"`
	CreatedAt    time.Time `json:"created_at" db:"created_at"`
}

// Disqualifies reports whether the declaration bars the member from its item: from the
// discussion and the vote, and from the count for the quorum (LGA 1972 Sch.12 para 45).
// It is the one rule the agenda, the votes and the console all follow:
//
//   - a member who withdraws from the room for the item is not present, and cannot vote
//     whatever a dispensation allows;
//   - a disclosable pecuniary interest (England) or a prejudicial interest (Wales) bars
//     the member unless a dispensation lets them stay, speak and vote;
//   - any other interest (other registrable, non-registrable, personal) does not bar the
//     member on its own.
func (d Declaration) Disqualifies() bool {
	return d.Withdraws || (d.Kind.Bars() && strings.TrimSpace(d.Dispensation) == "")
}
