package main

import (
	"context"
	"fmt"
	"time"

	"github.com/chamber/chamber/agenda"
)

// The demo council is fictional; its addresses use the reserved .example domain.
const (
	demoCouncilSlug = "cwm-derwen"
	demoDomain      = "cwm-derwen.example"
)

type demoPerson struct {
	name, email, title string
	role               agenda.CouncilRole
	committee          agenda.CommitteeRole // "" for staff
	party              string
}

var demoPeople = []demoPerson{
	{"Bethan Powell", "clerk", "Democratic Services Officer", agenda.RoleClerk, "", ""},
	{"Owen Jenkins", "planning", "Head of Planning", agenda.RoleOfficer, "", ""},
	{"Eleri Davies", "eleri.davies", "Cllr", agenda.RoleCouncillor, agenda.Chair, "Plaid Cymru"},
	{"Gareth Jones", "gareth.jones", "Cllr", agenda.RoleCouncillor, agenda.ViceChair, "Labour"},
	{"Siân Roberts", "sian.roberts", "Cllr", agenda.RoleCouncillor, agenda.Member, "Labour"},
	{"Tom Hughes", "tom.hughes", "Cllr", agenda.RoleCouncillor, agenda.Member, "Conservative"},
	{"Aled Price", "aled.price", "Cllr", agenda.RoleCouncillor, agenda.Member, "Independent"},
	{"Nia Evans", "nia.evans", "Cllr", agenda.RoleCouncillor, agenda.Member, "Plaid Cymru"},
	{"Rhys Morgan", "rhys.morgan", "Cllr", agenda.RoleCouncillor, agenda.Member, "Liberal Democrat"},
	{"Catrin Lewis", "catrin.lewis", "Cllr", agenda.RoleCouncillor, agenda.Member, "Labour"},
	{"David Thomas", "david.thomas", "Cllr", agenda.RoleCouncillor, agenda.Member, "Conservative"},
	{"Mair Williams", "mair.williams", "Cllr", agenda.RoleCouncillor, agenda.Substitute, "Independent"},
}

func demoEmail(local string) string { return local + "@" + demoDomain }

func paper(title, file string) agenda.Paper {
	return agenda.Paper{Title: title, URL: "https://" + demoDomain + "/papers/" + file}
}

var demoAgenda = []agenda.ItemInput{
	{Title: "Apologies for absence"},
	{Title: "Declarations of interest", Description: "Members are asked to declare any interests in items on this agenda."},
	{Title: "Minutes of the last meeting", Description: "To approve as a correct record the minutes of the meeting held on 15 October.",
		Papers: []agenda.Paper{paper("Draft minutes, 15 October", "minutes-15-october.pdf")}},
	{Title: "25/0412/FUL — Land at Heol y Felin: erection of 14 dwellings with access and landscaping",
		Kind: agenda.Planning,
		Description: "Full application for 14 dwellings, four of them affordable, with a new access from Heol y Felin. " +
			"Recommendation: approve subject to conditions and a section 106 agreement.",
		Papers: []agenda.Paper{paper("Officer report", "25-0412-FUL-report.pdf"), paper("Site plan", "25-0412-FUL-site-plan.pdf")}},
	{Title: "Supplementary planning guidance: affordable housing",
		Description: "Report of the Head of Planning on consultation responses to the draft guidance. " +
			"Recommendation: adopt the guidance.",
		Papers: []agenda.Paper{paper("Report of the Head of Planning", "spg-affordable-housing-report.pdf")}},
	{Title: "Enforcement: land at Pen-y-bryn Farm", Kind: agenda.Exempt, ExemptParagraph: 16,
		Description: "Legal advice on the prospects of enforcement action. Exempt: information in respect of which " +
			"a claim to legal professional privilege could be maintained (Schedule 12A, paragraph 16)."},
}

type demoLink struct{ role, url string }

// seedDemo creates the demo council, committee, people and meeting if they are not
// there yet, and returns fresh sign-in links for the clerk, the chair, a councillor and
// the public page.
func seedDemo(ctx context.Context, svc *agenda.Service, publicURL string, now func() time.Time) ([]demoLink, error) {
	admin := agenda.Actor{Admin: true}
	councilID, meetingID, err := findDemo(ctx, svc)
	if err != nil {
		return nil, err
	}
	if councilID == 0 {
		if councilID, meetingID, err = createDemo(ctx, svc, admin, now()); err != nil {
			return nil, err
		}
	}
	people, err := svc.ListPeople(ctx, admin, councilID)
	if err != nil {
		return nil, err
	}
	byEmail := map[string]int64{}
	for _, p := range people {
		byEmail[p.Email] = p.UserID
	}
	meetingPath := fmt.Sprintf("/meetings/%d", meetingID)
	links := []demoLink{}
	for _, who := range []struct{ role, email string }{
		{"clerk", demoEmail("clerk")},
		{"chair", demoEmail("eleri.davies")},
		{"councillor", demoEmail("sian.roberts")},
	} {
		id, ok := byEmail[who.email]
		if !ok {
			return nil, fmt.Errorf("demo %s %s is missing; delete the data directory to reseed", who.role, who.email)
		}
		token, err := svc.NewSignInLink(ctx, admin, id, meetingPath, true)
		if err != nil {
			return nil, err
		}
		links = append(links, demoLink{who.role, publicURL + "/login/link/" + token})
	}
	links = append(links, demoLink{"public", publicURL + meetingPath})
	return links, nil
}

// findDemo returns the demo council and its first meeting, or zeros if not seeded.
func findDemo(ctx context.Context, svc *agenda.Service) (councilID, meetingID int64, err error) {
	councils, err := svc.ListCouncils(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range councils {
		if c.Slug != demoCouncilSlug {
			continue
		}
		page, err := svc.ListMeetings(ctx, agenda.Actor{Admin: true}, agenda.MeetingQuery{CouncilID: c.ID, Limit: 1})
		if err != nil {
			return 0, 0, err
		}
		if len(page.Items) == 0 {
			return 0, 0, fmt.Errorf("the demo council exists but has no meeting; delete the data directory to reseed")
		}
		return c.ID, page.Items[0].ID, nil
	}
	return 0, 0, nil
}

func createDemo(ctx context.Context, svc *agenda.Service, admin agenda.Actor, now time.Time) (councilID, meetingID int64, err error) {
	council, err := svc.CreateCouncil(ctx, admin, agenda.CouncilInput{Name: "Cwm Derwen County Borough Council", Slug: demoCouncilSlug})
	if err != nil {
		return 0, 0, err
	}
	committee, err := svc.CreateCommittee(ctx, admin, council.ID, agenda.CommitteeInput{Name: "Planning Committee", Profile: "wales"})
	if err != nil {
		return 0, 0, err
	}
	ids := map[string]int64{}
	for _, p := range demoPeople {
		np, err := svc.AddPerson(ctx, admin, council.ID, agenda.PersonInput{
			Name: p.name, Email: demoEmail(p.email), Role: p.role, Title: p.title, Party: p.party})
		if err != nil {
			return 0, 0, fmt.Errorf("add %s: %w", p.name, err)
		}
		ids[p.email] = np.UserID
		if p.committee != "" {
			if _, err := svc.SetMember(ctx, admin, committee.ID, np.UserID, p.committee); err != nil {
				return 0, 0, fmt.Errorf("seat %s: %w", p.name, err)
			}
		}
	}
	// The next evening at half past six, local to the server.
	y, mo, d := now.Date()
	starts := time.Date(y, mo, d+1, 18, 30, 0, 0, now.Location())
	m, err := svc.CreateMeeting(ctx, admin, agenda.MeetingInput{
		CommitteeID: committee.ID, Title: "Planning Committee", StartsAt: starts,
		Location: "Council Chamber, Civic Centre, and online", Published: true,
	})
	if err != nil {
		return 0, 0, err
	}
	res, err := svc.ImportAgenda(ctx, admin, m.ID, agenda.AgendaFile{Items: demoAgenda}, false)
	if err != nil {
		return 0, 0, err
	}
	planning := res.Items[3].ID
	for _, sp := range []agenda.SpeakerInput{
		{ItemID: planning, Name: "Ann Pritchard", Capacity: agenda.Objector, Organisation: "Heol y Felin Residents' Group"},
		{ItemID: planning, Name: "Huw Bevan", Capacity: agenda.Applicant, Organisation: "Bevan Homes Ltd"},
	} {
		if _, err := svc.RegisterSpeaker(ctx, admin, m.ID, sp); err != nil {
			return 0, 0, fmt.Errorf("register speaker %s: %w", sp.Name, err)
		}
	}
	if _, err := svc.RecordApology(ctx, admin, m.ID, ids["david.thomas"], "Another council commitment"); err != nil {
		return 0, 0, err
	}
	if _, err := svc.RecordSubstitution(ctx, admin, m.ID, ids["mair.williams"], ids["david.thomas"]); err != nil {
		return 0, 0, err
	}
	return council.ID, m.ID, nil
}
