package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Access says who may call a route.
type Access int

const (
	// Open routes ignore credentials: health, metrics, sign-in, invitations, pages that
	// authenticate by the token in their path.
	Open Access = iota
	// Public routes answer anyone; signed-in callers may see more (unpublished meetings,
	// exempt business). Credentials that are sent must be valid.
	Public
	// SignedIn routes answer 401 to callers who have not signed in, before reading the
	// request body.
	SignedIn
)

func (a Access) String() string {
	switch a {
	case Open:
		return "open"
	case Public:
		return "public"
	case SignedIn:
		return "signed-in"
	}
	return "Access(" + strconv.Itoa(int(a)) + ")"
}

// Media types.
const (
	mediaJSON    = "application/json"
	mediaCSV     = "text/csv"
	mediaForm    = "application/x-www-form-urlencoded"
	mediaHTML    = "text/html"
	mediaProblem = "application/problem+json"
)

// Body size limits.
const (
	maxJSONBody   = 64 << 10
	maxImportBody = 5 << 20
)

// Param is a query parameter of a route.
type Param struct {
	Name        string
	Type        string // JSON Schema type: "integer", "string", "boolean"
	Format      string // "date-time", "int64"…
	Enum        []string
	Description string
}

// Route is one entry of the route table.
type Route struct {
	Method  string // GET, POST, PUT, PATCH, DELETE
	Pattern string // the http.ServeMux path pattern, "/api/v1/meetings/{meeting}"
	ID      string // the OpenAPI operationId
	Tag     string
	Summary string
	Access  Access
	// Status is the status code of success.
	Status int
	// AltStatus is another status of success, such as 200 for a submission repeated
	// and answered as the first time; 0 for none. The answer's value says which
	// (statusCoder).
	AltStatus int
	// Request is the JSON body's type, nil when the route takes no body.
	Request reflect.Type
	// RequestTypes are the media types the body may have.
	RequestTypes []string
	// Response is the type of the JSON answer, nil for none (204) or a non-JSON answer.
	Response reflect.Type
	// Produces is the media type of success; application/json unless set.
	Produces string
	Query    []Param

	maxBody    int64
	secretPath bool // the path holds a token: never logged
	quiet      bool // probes: logged at debug level
	identity   bool // authenticates the caller's identity, not their roles (call.loadRoles)
	api        func(*call) (any, error)
	raw        func(*call) error
}

// Write reports whether the route changes something (its method is not safe).
func (rt Route) Write() bool { return !safeMethod(rt.Method) }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// noContent is the response type of routes that answer 204.
type noContent struct{}

func newRoute(method, pattern string, access Access) Route {
	rt := Route{Method: method, Pattern: pattern, Access: access, Status: http.StatusOK, maxBody: maxJSONBody, Produces: mediaJSON}
	rt.secretPath = strings.Contains(pattern, "{token}")
	return rt
}

// jsonOp is a route that takes a JSON body of type In and answers Out.
func jsonOp[In, Out any](method, pattern string, access Access, f func(*call, In) (Out, error)) Route {
	rt := newRoute(method, pattern, access)
	rt.Request = reflect.TypeFor[In]()
	rt.RequestTypes = []string{mediaJSON}
	rt.setResponse(reflect.TypeFor[Out]())
	rt.api = func(c *call) (any, error) {
		var in In
		if err := c.decode(&in); err != nil {
			return nil, err
		}
		return f(c, in)
	}
	return rt
}

// op is a route that takes no body and answers Out.
func op[Out any](method, pattern string, access Access, f func(*call) (Out, error)) Route {
	rt := newRoute(method, pattern, access)
	rt.setResponse(reflect.TypeFor[Out]())
	rt.api = func(c *call) (any, error) {
		if err := c.noBody(); err != nil {
			return nil, err
		}
		return f(c)
	}
	return rt
}

// rawOp is a route that writes its own answer.
func rawOp(method, pattern string, access Access, produces string, f func(*call) error) Route {
	rt := newRoute(method, pattern, access)
	rt.Produces = produces
	rt.raw = f
	return rt
}

func (rt *Route) setResponse(t reflect.Type) {
	if t == reflect.TypeFor[noContent]() {
		rt.Status = http.StatusNoContent
		return
	}
	rt.Response = t
}

// doc names and describes a route.
func (rt Route) doc(id, tag, summary string) Route {
	rt.ID, rt.Tag, rt.Summary = id, tag, summary
	return rt
}

func (rt Route) status(code int) Route { rt.Status = code; return rt }

func (rt Route) alsoStatus(code int) Route { rt.AltStatus = code; return rt }

// statusCoder is an answer that says which of its route's statuses it is sent with.
type statusCoder interface{ statusCode() int }

func (rt Route) query(ps ...Param) Route { rt.Query = append(rt.Query, ps...); return rt }

func (rt Route) quietLog() Route { rt.quiet = true; return rt }

// identityOnly marks a route that needs to know who is asking but, as a rule, not
// their roles: casting one's own ballot, where the committee's roll decides who may
// vote. Its handler reads the roles when it needs them (call.loadRoles). It takes the
// credential as last read, and stores the ballot only if that still stands as the
// ballot commits (credentials.go).
func (rt Route) identityOnly() Route { rt.identity = true; return rt }

// call is one request to one route, with who is asking.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	route *Route
	actor agenda.Actor
	// cookie is the session cookie's value and csrf its token, when the request was
	// authenticated by the cookie.
	cookie, csrf string
	// cred is the API token or session the request was authenticated by, if any, and
	// held the key it is held under (credentials.go).
	cred voting.Credential
	held string
	// rolesLoaded says the actor's roles are loaded, on a route that authenticates
	// by identity alone.
	rolesLoaded bool
}

// serveRoute authenticates the request as the route needs, then runs it.
func (s *Server) serveRoute(rt *Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r).route = rt
		c := &call{s: s, w: w, r: r, route: rt}
		if rt.Produces == mediaJSON {
			w.Header().Set("Cache-Control", "no-store")
		}
		if err := s.authenticate(c); err != nil {
			c.fail(err)
			return
		}
		info(r).userID = c.actor.UserID
		if rt.raw != nil {
			if err := rt.raw(c); err != nil {
				c.fail(err)
			}
			return
		}
		v, err := rt.api(c)
		if err != nil {
			c.fail(err)
			return
		}
		if rt.Status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		status := rt.Status
		if sc, ok := v.(statusCoder); ok {
			status = sc.statusCode()
		}
		c.json(status, v)
	})
}

// fail answers with the problem for err: problem+json under /api and for the probes,
// an HTML page for the pages.
func (c *call) fail(err error) {
	if c.route.Produces == mediaHTML {
		c.s.pageError(c.w, c.r, err)
		return
	}
	c.s.problem(c.w, c.r, err)
}

func (c *call) json(status int, v any) {
	c.w.Header().Set("Content-Type", mediaJSON)
	c.w.WriteHeader(status)
	if err := json.NewEncoder(c.w).Encode(v); err != nil {
		c.s.log.Debug("write response", "request_id", info(c.r).id, "err", err)
	}
}

// id reads an integer path parameter. Anything but a positive integer is not found.
func (c *call) id(name string) (int64, error) {
	v := c.r.PathValue(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, &httpError{kind: probNotFound, detail: fmt.Sprintf("%q is not a %s id.", v, name)}
	}
	return n, nil
}

// mediaType returns the request's media type, lower case, without parameters.
func (c *call) mediaType() string {
	ct := c.r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "invalid"
	}
	return mt
}

// requireType checks the body's media type against the route's.
func (c *call) requireType() (string, error) {
	mt := c.mediaType()
	for _, t := range c.route.RequestTypes {
		if mt == t {
			return mt, nil
		}
	}
	return "", &httpError{kind: probMediaType,
		detail: fmt.Sprintf("Send the body as %s (Content-Type was %q).", strings.Join(c.route.RequestTypes, " or "), c.r.Header.Get("Content-Type"))}
}

// readBody reads the whole body within the route's limit.
func (c *call) readBody() ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, c.route.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &httpError{kind: probTooLarge, detail: fmt.Sprintf("The body is larger than %d bytes.", mbe.Limit)}
		}
		return nil, &httpError{kind: probMalformed, detail: "The body could not be read."}
	}
	return b, nil
}

// decode reads a JSON body into v: the media type must be JSON, the body one JSON value
// within the size limit, with no unknown fields and every value of its field's type.
func (c *call) decode(v any) error {
	if _, err := c.requireType(); err != nil {
		return err
	}
	b, err := c.readBody()
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &httpError{kind: probMalformed, detail: "The body is empty; send a JSON object."}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &httpError{kind: probMalformed, detail: "The body has data after its JSON value."}
	}
	return nil
}

// malformed describes a JSON decoding error, naming the field where it can.
func malformed(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &httpError{kind: probMalformed, detail: fmt.Sprintf("The body is not valid JSON (at byte %d): %s.", se.Offset, se.Error())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &httpError{kind: probMalformed, detail: "The body is not valid JSON: it ends too soon."}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		msg := "must be " + jsonTypeName(te.Type)
		return &httpError{kind: probMalformed, detail: "A value has the wrong type.",
			fields: []agenda.FieldError{{Field: field, Message: msg}}}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &httpError{kind: probMalformed, detail: "The body has a field this operation does not know.",
			fields: []agenda.FieldError{{Field: name, Message: "is not a known field"}}}
	}
	return &httpError{kind: probMalformed, detail: "The body could not be decoded: " + err.Error() + "."}
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		if t.String() == "time.Time" {
			return "a date and time (RFC 3339)"
		}
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "a " + t.Kind().String()
}

// noBody accepts an empty body (or an empty JSON object) on routes that take none.
func (c *call) noBody() error {
	if c.r.Body == nil || c.r.Body == http.NoBody {
		return nil
	}
	b, err := c.readBody()
	if err != nil {
		return err
	}
	switch t := bytes.TrimSpace(b); {
	case len(t) == 0:
		return nil
	case bytes.Equal(bytes.Join(bytes.Fields(t), nil), []byte("{}")):
		return nil
	}
	return &httpError{kind: probMalformed, detail: "This operation takes no request body."}
}
