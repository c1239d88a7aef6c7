package agenda

import (
	"context"
	"errors"
	"regexp"
	"strings"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slugify turns a name into a slug: "Planning Committee" → "planning-committee".
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}

func checkSlug(c *checker, field, slug string) {
	if !slugRE.MatchString(slug) || len(slug) > 60 {
		c.add(field, "must be 1–60 lowercase letters, digits and single hyphens")
	}
}

// CouncilInput creates a council.
type CouncilInput struct {
	Name string `json:"name"`
	Slug string `json:"slug,omitempty"`
}

// CreateCouncil creates a council. Admins only.
func (s *Service) CreateCouncil(ctx context.Context, actor Actor, in CouncilInput) (Council, error) {
	if !actor.Admin {
		return Council{}, actor.forbid()
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Slug == "" {
		in.Slug = Slugify(in.Name)
	}
	var c checker
	c.text("name", in.Name, true, 200)
	checkSlug(&c, "slug", in.Slug)
	if err := c.err(); err != nil {
		return Council{}, err
	}
	council := Council{Name: in.Name, Slug: in.Slug}
	err := s.write(ctx, actor, func(o *op) error {
		council.CreatedAt = o.now
		return o.CreateCouncil(ctx, &council)
	})
	return council, err
}

// ListCouncils lists every council. Anyone may.
func (s *Service) ListCouncils(ctx context.Context) ([]Council, error) {
	var out []Council
	err := s.read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ListCouncils(ctx)
		return err
	})
	return out, err
}

// GetCouncil returns one council. Anyone may.
func (s *Service) GetCouncil(ctx context.Context, id int64) (Council, error) {
	var c Council
	err := s.read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.GetCouncil(ctx, id)
		return err
	})
	return c, err
}

// PersonInput adds a person to a council.
type PersonInput struct {
	Name  string      `json:"name"`
	Email string      `json:"email"`
	Role  CouncilRole `json:"role"`
	Title string      `json:"title,omitempty"`
	Party string      `json:"party,omitempty"`
}

// NewPerson is a person just added, and the invitation token to send them when their
// account is new.
type NewPerson struct {
	Person
	InviteToken string `json:"-"`
}

// AddPerson adds a person to a council, creating their account (with an invitation to
// set a password) when the email is new. Clerks of the council only.
func (s *Service) AddPerson(ctx context.Context, actor Actor, councilID int64, in PersonInput) (NewPerson, error) {
	if !actor.IsClerk(councilID) {
		return NewPerson{}, actor.forbid()
	}
	in.Email = normaliseEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	var c checker
	c.text("name", in.Name, true, 200)
	checkEmail(&c, "email", in.Email)
	if !in.Role.Valid() {
		c.add("role", "must be clerk, officer or councillor")
	}
	c.text("title", in.Title, false, 100)
	c.text("party", in.Party, false, 100)
	if err := c.err(); err != nil {
		return NewPerson{}, err
	}
	var out NewPerson
	err := s.write(ctx, actor, func(o *op) error {
		if _, err := o.GetCouncil(ctx, councilID); err != nil {
			return err
		}
		u, err := o.GetUserByEmail(ctx, in.Email)
		switch {
		case errors.Is(err, ErrNotFound):
			u = User{Email: in.Email, Name: in.Name, CreatedAt: o.now, Invited: true}
			if err := o.CreateUser(ctx, &u, ""); err != nil {
				return err
			}
			token, hash := NewToken(linkPrefix)
			if err := o.CreateLink(ctx, Link{Hash: hash, UserID: u.ID, Purpose: Invite, Redirect: "/",
				CreatedBy: actor.UserID, CreatedAt: o.now, ExpiresAt: o.now.Add(InviteTTL)}); err != nil {
				return err
			}
			out.InviteToken = token
		case err != nil:
			return err
		}
		p := Person{UserID: u.ID, CouncilID: councilID, Name: u.Name, Email: u.Email, Role: in.Role,
			Title: in.Title, Party: in.Party, Invited: u.Invited}
		if err := o.PutPerson(ctx, p); err != nil {
			return err
		}
		out.Person = p
		return nil
	})
	return out, err
}

// Reinvite makes a fresh invitation for a person who has not yet set a password.
func (s *Service) Reinvite(ctx context.Context, actor Actor, councilID, userID int64) (string, error) {
	if !actor.IsClerk(councilID) {
		return "", actor.forbid()
	}
	token, hash := NewToken(linkPrefix)
	err := s.write(ctx, actor, func(o *op) error {
		p, err := o.GetPerson(ctx, councilID, userID)
		if err != nil {
			return err
		}
		if !p.Invited {
			return conflict("%s has already accepted their invitation", p.Name)
		}
		return o.CreateLink(ctx, Link{Hash: hash, UserID: userID, Purpose: Invite, Redirect: "/",
			CreatedBy: actor.UserID, CreatedAt: o.now, ExpiresAt: o.now.Add(InviteTTL)})
	})
	return token, err
}

// ListPeople lists a council's people. Members of the public see councillors only
// (name, title, party), never email addresses.
func (s *Service) ListPeople(ctx context.Context, actor Actor, councilID int64) ([]Person, error) {
	var out []Person
	err := s.read(ctx, func(tx Tx) error {
		if _, err := tx.GetCouncil(ctx, councilID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListPeople(ctx, councilID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, staff := actor.Councils[councilID]; staff || actor.Admin {
		return out, nil
	}
	public := out[:0]
	for _, p := range out {
		if p.Role == RoleCouncillor {
			p.Email, p.Invited = "", false
			public = append(public, p)
		}
	}
	return public, nil
}

// CommitteeInput creates or changes a committee.
type CommitteeInput struct {
	Name      string           `json:"name"`
	Slug      string           `json:"slug,omitempty"`
	Profile   string           `json:"profile,omitempty"`
	Overrides ProfileOverrides `json:"overrides"`
}

// CreateCommittee creates a committee with a rules profile. Clerks of the council only.
func (s *Service) CreateCommittee(ctx context.Context, actor Actor, councilID int64, in CommitteeInput) (Committee, error) {
	if !actor.IsClerk(councilID) {
		return Committee{}, actor.forbid()
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Slug == "" {
		in.Slug = Slugify(in.Name)
	}
	if in.Profile == "" {
		in.Profile = DefaultProfile
	}
	var c checker
	c.text("name", in.Name, true, 200)
	checkSlug(&c, "slug", in.Slug)
	if err := c.err(); err != nil {
		return Committee{}, err
	}
	profile, err := ResolveProfile(in.Profile, in.Overrides)
	if err != nil {
		return Committee{}, err
	}
	cm := Committee{CouncilID: councilID, Slug: in.Slug, Name: in.Name, ProfileName: in.Profile, Profile: profile, Overrides: in.Overrides}
	err = s.write(ctx, actor, func(o *op) error {
		if _, err := o.GetCouncil(ctx, councilID); err != nil {
			return err
		}
		cm.CreatedAt = o.now
		return o.CreateCommittee(ctx, &cm)
	})
	return cm, err
}

// CommitteePatch changes a committee; nil fields stay as they are. Overrides, when
// given, replace the committee's overrides as a whole.
type CommitteePatch struct {
	Name      *string           `json:"name,omitempty"`
	Profile   *string           `json:"profile,omitempty"`
	Overrides *ProfileOverrides `json:"overrides,omitempty"`
}

// UpdateCommittee changes a committee's name or rules. Clerks of the council only.
func (s *Service) UpdateCommittee(ctx context.Context, actor Actor, id int64, p CommitteePatch) (Committee, error) {
	var cm Committee
	err := s.write(ctx, actor, func(o *op) error {
		var err error
		if cm, err = o.GetCommittee(ctx, id); err != nil {
			return err
		}
		if !actor.IsClerk(cm.CouncilID) {
			return actor.forbid()
		}
		if p.Name != nil {
			var c checker
			c.text("name", *p.Name, true, 200)
			if err := c.err(); err != nil {
				return err
			}
			cm.Name = strings.TrimSpace(*p.Name)
		}
		if p.Profile != nil {
			cm.ProfileName = *p.Profile
		}
		if p.Overrides != nil {
			cm.Overrides = *p.Overrides
		}
		if cm.Profile, err = ResolveProfile(cm.ProfileName, cm.Overrides); err != nil {
			return err
		}
		return o.UpdateCommittee(ctx, cm)
	})
	return cm, err
}

// GetCommittee returns a committee. Anyone may.
func (s *Service) GetCommittee(ctx context.Context, id int64) (Committee, error) {
	var cm Committee
	err := s.read(ctx, func(tx Tx) error {
		var err error
		cm, err = tx.GetCommittee(ctx, id)
		return err
	})
	return cm, err
}

// ListCommittees lists a council's committees. Anyone may.
func (s *Service) ListCommittees(ctx context.Context, councilID int64) ([]Committee, error) {
	var out []Committee
	err := s.read(ctx, func(tx Tx) error {
		if _, err := tx.GetCouncil(ctx, councilID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListCommittees(ctx, councilID)
		return err
	})
	return out, err
}

// SetMember puts a councillor on a committee in a role, or changes their role. Clerks of
// the council only; the person must be a councillor of the committee's council, and a
// committee has at most one chair.
func (s *Service) SetMember(ctx context.Context, actor Actor, committeeID, userID int64, role CommitteeRole) (Membership, error) {
	if !role.Valid() {
		return Membership{}, invalid("role", "must be chair, vice_chair, member or substitute")
	}
	var m Membership
	err := s.write(ctx, actor, func(o *op) error {
		cm, err := o.GetCommittee(ctx, committeeID)
		if err != nil {
			return err
		}
		if !actor.IsClerk(cm.CouncilID) {
			return actor.forbid()
		}
		p, err := o.GetPerson(ctx, cm.CouncilID, userID)
		if errors.Is(err, ErrNotFound) {
			return invalid("user_id", "person %d is not in this council", userID)
		}
		if err != nil {
			return err
		}
		if p.Role != RoleCouncillor {
			return invalid("user_id", "%s is not a councillor", p.Name)
		}
		if role == Chair || role == ViceChair {
			members, err := o.ListMemberships(ctx, committeeID)
			if err != nil {
				return err
			}
			for _, x := range members {
				if x.Role == role && x.UserID != userID {
					return conflict("%s is already %s; change their role first", x.Name, strings.ReplaceAll(string(role), "_", "-"))
				}
			}
		}
		m = Membership{CommitteeID: committeeID, UserID: userID, Name: p.Name, Role: role}
		return o.PutMembership(ctx, m)
	})
	return m, err
}

// RemoveMember takes a councillor off a committee. Clerks only.
func (s *Service) RemoveMember(ctx context.Context, actor Actor, committeeID, userID int64) error {
	return s.write(ctx, actor, func(o *op) error {
		cm, err := o.GetCommittee(ctx, committeeID)
		if err != nil {
			return err
		}
		if !actor.IsClerk(cm.CouncilID) {
			return actor.forbid()
		}
		return o.DeleteMembership(ctx, committeeID, userID)
	})
}

// ListMembers lists a committee's members. Anyone may.
func (s *Service) ListMembers(ctx context.Context, committeeID int64) ([]Membership, error) {
	var out []Membership
	err := s.read(ctx, func(tx Tx) error {
		if _, err := tx.GetCommittee(ctx, committeeID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListMemberships(ctx, committeeID)
		return err
	})
	return out, err
}
