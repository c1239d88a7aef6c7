package web

import (
	"net/http"
	"reflect"

	"github.com/chamber/chamber/agenda"
)

// Methods, spelt once.
const (
	get   = http.MethodGet
	post  = http.MethodPost
	put   = http.MethodPut
	patch = http.MethodPatch
	del   = http.MethodDelete
)

// table is the route table. Paths are resource-oriented: a meeting's records live
// under /api/v1/meetings/{meeting}; actions on a meeting are POSTs to a verb under it.
func (s *Server) table() []Route {
	svc := s.svc
	const (
		meeting = "/api/v1/meetings/{meeting}"
	)
	routes := []Route{
		// Operations.
		rawOp(get, "/healthz", Open, mediaJSON, s.healthz).doc("health", "operations", "Liveness: the process is up").quietLog(),
		rawOp(get, "/readyz", Open, mediaJSON, s.readyz).doc("readiness", "operations", "Readiness: the database and other services answer").quietLog(),
		rawOp(get, "/metrics", Open, "text/plain", s.serveMetrics).doc("metrics", "operations", "Prometheus metrics").quietLog(),
		rawOp(get, "/api/v1/openapi.json", Open, mediaJSON, s.serveOpenAPI).doc("openapi", "operations", "This API's OpenAPI 3.1 description"),

		// Accounts.
		jsonOp(post, "/api/v1/auth/login", Open, s.login).doc("login", "accounts",
			"Sign in: mode cookie starts a browser session (Set-Cookie) and returns its CSRF token; mode token returns a bearer API token").limited(s),
		op(post, "/api/v1/auth/logout", SignedIn, s.logout).doc("logout", "accounts", "End the browser session, or revoke the API token the request carries"),
		op(get, "/api/v1/me", SignedIn, s.me).doc("getMe", "accounts", "The signed-in user, their roles, and the session's CSRF token"),
		op(get, "/api/v1/me/tokens", SignedIn, s.listTokens).doc("listTokens", "accounts", "List your API tokens (never their values)"),
		jsonOp(post, "/api/v1/me/tokens", SignedIn, s.createToken).doc("createToken", "accounts", "Create an API token; its value is shown only in this answer").status(http.StatusCreated),
		op(del, "/api/v1/me/tokens/{id}", SignedIn, s.revokeToken).doc("revokeToken", "accounts", "Revoke one of your API tokens"),
		jsonOp(post, "/api/v1/users/{user}/sign-in-links", SignedIn, s.createSignInLink).doc("createSignInLink", "accounts",
			"Make a link that signs a person in and leads to a page (clerks of the person's council)").status(http.StatusCreated),
		op(get, "/api/v1/invitations/{token}", Open, s.invitation).doc("getInvitation", "accounts", "Whom an invitation is for"),
		rawOp(post, "/api/v1/invitations/{token}/accept", Open, mediaJSON, s.acceptInvitation).doc("acceptInvitation", "accounts",
			"Accept an invitation by setting a password. A form post (from the invitation page) also signs the person in and redirects home").
			body(reflect.TypeFor[AcceptInvitationRequest](), mediaJSON, mediaForm).responds(reflect.TypeFor[agenda.User]()),

		// Councils, people, committees.
		op(get, "/api/v1/councils", Public, s.listCouncils).doc("listCouncils", "councils", "List councils"),
		jsonOp(post, "/api/v1/councils", SignedIn, s.createCouncil).doc("createCouncil", "councils", "Create a council (admins)").status(http.StatusCreated),
		op(get, "/api/v1/councils/{council}", Public, s.getCouncil).doc("getCouncil", "councils", "Get a council"),
		op(get, "/api/v1/councils/{council}/people", Public, s.listPeople).doc("listPeople", "councils",
			"List a council's people (the public sees councillors only, without email addresses)"),
		jsonOp(post, "/api/v1/councils/{council}/people", SignedIn, s.addPerson).doc("addPerson", "councils",
			"Add a person to a council; a new account gets an invitation link to set a password (clerks)").status(http.StatusCreated),
		op(post, "/api/v1/councils/{council}/people/{user}/reinvite", SignedIn, s.reinvite).doc("reinvite", "councils",
			"Make a fresh invitation for a person who has not yet set a password (clerks)"),
		op(get, "/api/v1/councils/{council}/committees", Public, s.listCommittees).doc("listCommittees", "committees", "List a council's committees"),
		jsonOp(post, "/api/v1/councils/{council}/committees", SignedIn, s.createCommittee).doc("createCommittee", "committees",
			"Create a committee with a rules profile (clerks)").status(http.StatusCreated),
		op(get, "/api/v1/profiles", Public, s.profiles).doc("listProfiles", "committees", "The preset rules profiles"),
		op(get, "/api/v1/committees/{committee}", Public, s.getCommittee).doc("getCommittee", "committees", "Get a committee with its rules"),
		jsonOp(patch, "/api/v1/committees/{committee}", SignedIn, s.updateCommittee).doc("updateCommittee", "committees",
			"Change a committee's name or rules (clerks)"),
		op(get, "/api/v1/committees/{committee}/members", Public, s.listMembers).doc("listMembers", "committees", "List a committee's members"),
		jsonOp(put, "/api/v1/committees/{committee}/members/{user}", SignedIn, s.putMember).doc("putMember", "committees",
			"Put a councillor on a committee in a role, or change their role (clerks)"),
		op(del, "/api/v1/committees/{committee}/members/{user}", SignedIn, s.removeMember).doc("removeMember", "committees",
			"Take a councillor off a committee (clerks)"),

		// Meetings.
		op(get, "/api/v1/meetings", Public, s.listMeetings).doc("listMeetings", "meetings",
			"List the meetings you may see by start time (the public: published ones), a page at a time").query(meetingQuery...),
		jsonOp(post, "/api/v1/meetings", SignedIn, s.createMeeting).doc("createMeeting", "meetings", "Schedule a meeting (clerks)").status(http.StatusCreated),
		op(get, meeting, Public, s.getMeeting).doc("getMeeting", "meetings", "Get a meeting"),
		jsonOp(patch, meeting, SignedIn, s.updateMeeting).doc("updateMeeting", "meetings", "Change a meeting's details or publish it (clerks)"),
		op(post, meeting+"/start", SignedIn, meetingAction(svc.StartMeeting)).doc("startMeeting", "meeting console", "Start a scheduled meeting (clerk or chair)"),
		op(post, meeting+"/adjourn", SignedIn, meetingAction(svc.AdjournMeeting)).doc("adjournMeeting", "meeting console", "Adjourn a meeting in progress"),
		op(post, meeting+"/resume", SignedIn, meetingAction(svc.ResumeMeeting)).doc("resumeMeeting", "meeting console", "Resume an adjourned meeting"),
		op(post, meeting+"/close", SignedIn, meetingAction(svc.CloseMeeting)).doc("closeMeeting", "meeting console",
			"Close a meeting: the current item ends, everyone present leaves, the session returns to public"),
		op(post, meeting+"/next", SignedIn, meetingAction(svc.NextItem)).doc("nextItem", "meeting console",
			"Move to the next item not yet taken (an exempt item takes the meeting into private session)"),
		op(post, meeting+"/previous", SignedIn, meetingAction(svc.PreviousItem)).doc("previousItem", "meeting console",
			"Go back to the item taken last, undoing a move made by mistake"),
		jsonOp(post, meeting+"/current", SignedIn, s.setCurrentItem).doc("setCurrentItem", "meeting console", "Move to any item, for business taken out of order"),
		jsonOp(post, meeting+"/session", SignedIn, s.setSessionState).doc("setSession", "meeting console",
			"Exclude the public under a Schedule 12A paragraph, or readmit them"),

		// The agenda.
		op(get, meeting+"/items", Public, s.listItems).doc("listItems", "agenda", "The agenda in order (exempt items title-only for the public)"),
		jsonOp(post, meeting+"/items", SignedIn, s.addItem).doc("addItem", "agenda", "Add an item (clerks)").status(http.StatusCreated),
		op(get, meeting+"/items/{item}", Public, s.getItem).doc("getItem", "agenda", "Get an item"),
		jsonOp(patch, meeting+"/items/{item}", SignedIn, s.updateItem).doc("updateItem", "agenda", "Change an item, its notes or its decision (clerks)"),
		op(del, meeting+"/items/{item}", SignedIn, s.removeItem).doc("removeItem", "agenda", "Take an item not yet taken off the agenda (clerks)"),
		jsonOp(put, meeting+"/agenda/order", SignedIn, s.reorderItems).doc("reorderAgenda", "agenda", "Put the agenda in a new order (clerks)"),
		customOp(post, meeting+"/agenda/import", SignedIn, s.importAgenda).doc("importAgenda", "agenda",
			"Import items from JSON or CSV (one row per item); replace=true replaces the agenda of a meeting not yet started. Every row is checked before anything is written").
			body(reflect.TypeFor[AgendaFileJSON](), mediaJSON, mediaCSV).maxBodySize(maxImportBody).
			query(Param{Name: "replace", Type: "boolean", Description: "Replace the agenda instead of adding to it."}),

		// Records of the meeting.
		op(get, meeting+"/apologies", Public, s.listApologies).doc("listApologies", "records", "List apologies for absence"),
		jsonOp(post, meeting+"/apologies", SignedIn, s.recordApology).doc("recordApology", "records",
			"Record a member's apology (clerks; a member may send their own)").status(http.StatusCreated),
		op(del, meeting+"/apologies/{user}", SignedIn, s.withdrawApology).doc("withdrawApology", "records", "Withdraw an apology"),
		op(get, meeting+"/substitutions", Public, s.listSubstitutions).doc("listSubstitutions", "records", "List substitutions"),
		jsonOp(post, meeting+"/substitutions", SignedIn, s.recordSubstitution).doc("recordSubstitution", "records",
			"Record a substitute sitting for a member (clerks)").status(http.StatusCreated),
		op(del, meeting+"/substitutions/{user}", SignedIn, s.removeSubstitution).doc("removeSubstitution", "records", "Remove a substitution by the substitute's id"),
		op(get, meeting+"/declarations", Public, s.listDeclarations).doc("listDeclarations", "records", "List declarations of interest"),
		jsonOp(post, meeting+"/declarations", SignedIn, s.declare).doc("declareInterest", "records",
			"Declare an interest (the member, or the clerk for them)").status(http.StatusCreated),
		op(get, meeting+"/motions", Public, s.listMotions).doc("listMotions", "records", "List motions and amendments"),
		jsonOp(post, meeting+"/motions", SignedIn, s.proposeMotion).doc("proposeMotion", "records", "Propose a motion or amendment").status(http.StatusCreated),
		jsonOp(patch, meeting+"/motions/{motion}", SignedIn, s.updateMotion).doc("updateMotion", "records", "Second a motion or record its outcome"),
		op(get, meeting+"/attendance", Public, s.listAttendance).doc("listAttendance", "records", "List attendance, in order of arrival"),
		jsonOp(post, meeting+"/attendance", SignedIn, s.recordArrival).doc("recordArrival", "records",
			"Record that a person is present in a mode (roll call, late arrival, change of mode)").status(http.StatusCreated),
		op(post, meeting+"/attendance/{user}/departure", SignedIn, s.recordDeparture).doc("recordDeparture", "records", "Record that a person has left"),
		op(get, meeting+"/speakers", Public, s.listSpeakers).doc("listSpeakers", "records", "List registered public speakers"),
		jsonOp(post, meeting+"/speakers", SignedIn, s.registerSpeaker).doc("registerSpeaker", "records",
			"Register a member of the public to speak on an item (clerks)").status(http.StatusCreated),
		op(del, meeting+"/speakers/{speaker}", SignedIn, s.removeSpeaker).doc("removeSpeaker", "records", "Withdraw a speaker's registration"),
		op(get, meeting+"/events", Public, s.events).doc("listEvents", "records",
			"The meeting's journal after a sequence number (private events only for those who may see them)").
			query(Param{Name: "after", Type: "integer", Format: "int64", Description: "Return events with a greater sequence number."},
				Param{Name: "limit", Type: "integer", Description: "At most this many events (1–1000)."}),

		// Pages.
		rawOp(get, "/{$}", Public, mediaHTML, s.homePage).doc("homePage", "pages", "Published meetings"),
		rawOp(get, "/meetings", Public, mediaHTML, s.meetingsPage).doc("meetingsPage", "pages",
			"Meetings from today on and before, a page at a time").
			query(Param{Name: "upcoming", Type: "string", Description: "Where the list of meetings to come goes on from."},
				Param{Name: "before", Type: "string", Description: "Where the list of past meetings goes on from."}),
		rawOp(get, "/meetings/{meeting}", Public, mediaHTML, s.meetingPage).doc("meetingPage", "pages",
			"A meeting: its live status, agenda with papers, decisions and votes as they happen, and its minutes once published"),
		rawOp(get, "/invite/{token}", Open, mediaHTML, s.inviteGet).doc("invitePage", "pages", "The form to accept an invitation"),
		rawOp(get, "/login/link/{token}", Open, mediaHTML, s.signInLink).doc("useSignInLink", "pages",
			"Sign in with a link and go where it leads (303)").status(http.StatusSeeOther),
		rawOp(get, "/problems/{name}", Open, mediaHTML, s.problemPage).doc("problemPage", "pages", "What a problem type means"),
		rawOp(get, "/static/{file}", Open, "text/css", s.staticFile).doc("staticFile", "pages", "Style sheets").quietLog(),
		rawOp(get, "/static/js/{file}", Open, "text/javascript", s.scriptFile).doc("scriptFile", "pages", "JavaScript modules of the live pages").quietLog(),
		rawOp(get, "/meetings/{meeting}/room", Public, mediaHTML, s.roomPage).doc("roomPage", "pages",
			"The meeting room where members take part: camera and microphone, agenda, declarations, signed votes (sign in first)"),
		rawOp(get, "/meetings/{meeting}/console", Public, mediaHTML, s.consolePage).doc("consolePage", "pages",
			"The console where the clerk and the chair run the meeting (sign in first)"),
	}
	if s.votes != nil {
		routes = append(routes, s.voteRoutes()...)
	}
	if s.minutes != nil {
		routes = append(routes, s.minutesRoutes()...)
	}
	if s.hooks != nil {
		routes = append(routes, s.webhookRoutes()...)
	}
	if s.tokens != nil {
		routes = append(routes,
			op(post, meeting+"/join", Public, s.joinRoom).doc("joinRoom", "live",
				"A token for the meeting's live room, with what your role allows: clerks and the chair run it, members and officers take part, "+
					"anyone else watches (rate-limited per address)"),
			op(post, meeting+"/console/join", SignedIn, s.joinConsole).doc("joinConsole", "live",
				"A token for the meeting console's own connection to the live room: the chair's controls, hidden, no media, no attendance (clerks and the chair)"),
			op(post, meeting+"/speakers/{speaker}/pass", SignedIn, s.speakerPass).doc("speakerPass", "live",
				"A public speaker's pass and link: it lets them join and speak on their item when given the floor (clerks)").status(http.StatusCreated),
			jsonOp(post, "/api/v1/rtc/speaker-join", Open, s.speakerJoin).doc("speakerJoin", "live",
				"Exchange a public speaker's pass for a token for the live room"),
		)
	}
	if s.rtc != nil {
		rtc := s.rtc
		routes = append(routes, rawOp(get, "/api/v1/rtc", Open, "application/octet-stream", func(c *call) error {
			rtc.ServeHTTP(c.w, c.r)
			return nil
		}).doc("rtc", "live", "The signalling WebSocket (Upgrade: websocket)").status(http.StatusSwitchingProtocols))
	}
	return routes
}

// customOp is a route that reads its own body and answers Out.
func customOp[Out any](method, pattern string, access Access, f func(*call) (Out, error)) Route {
	rt := newRoute(method, pattern, access)
	rt.setResponse(reflect.TypeFor[Out]())
	rt.api = func(c *call) (any, error) { return f(c) }
	return rt
}

func (rt Route) body(t reflect.Type, types ...string) Route {
	rt.Request, rt.RequestTypes = t, types
	return rt
}

func (rt Route) responds(t reflect.Type) Route { rt.Response = t; return rt }

func (rt Route) maxBodySize(n int64) Route { rt.maxBody = n; return rt }

// limited applies the sign-in rate limit to a route.
func (rt Route) limited(s *Server) Route {
	rt.api = s.limitLogins(rt.api)
	return rt
}
