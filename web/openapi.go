package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/chamber/chamber/agenda"
)

// OpenAPIPath turns a ServeMux pattern into an OpenAPI path: "/{$}" is "/" and
// "{name...}" is "{name}".
func OpenAPIPath(pattern string) string {
	p := strings.ReplaceAll(pattern, "{$}", "")
	p = strings.ReplaceAll(p, "...}", "}")
	if p == "" {
		return "/"
	}
	return p
}

var wildcard = regexp.MustCompile(`\{([a-z_]+)(?:\.\.\.)?\}`)

// pathParams lists a pattern's wildcards in order.
func pathParams(pattern string) []string {
	var out []string
	for _, m := range wildcard.FindAllStringSubmatch(pattern, -1) {
		out = append(out, m[1])
	}
	return out
}

// stringParams are the path parameters that are not integer ids.
var stringParams = map[string]string{
	"token":    "An invitation or sign-in token.",
	"key":      "A device key's id: 32 lowercase hex digits.",
	"name":     "A problem type's name.",
	"file":     "A file name.",
	"delivery": "A webhook delivery's id: dlv_ and 26 characters.",
}

// openAPIDocument describes every route of the table as OpenAPI 3.1. Schemas come from
// the Go types by reflection (JSON Schema 2020-12, which OpenAPI 3.1 uses).
func (s *Server) openAPIDocument() ([]byte, error) {
	schemas := map[string]any{}
	ref := &jsonschema.Reflector{
		Anonymous: true,
		Namer:     schemaName,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			// Listed values are schemas of their own, so that their descriptions stay.
			if sc := enumSchema(t); sc != nil {
				schemas[t.Name()] = sc
				return &jsonschema.Schema{Ref: "#/$defs/" + t.Name()}
			}
			return base64Arrays(t)
		},
	}
	schemaFor := func(t reflect.Type) *jsonschema.Schema {
		sc := ref.ReflectFromType(t)
		for name, def := range sc.Definitions {
			schemas[name] = def
		}
		sc.Definitions = nil
		sc.Version = ""
		return sc
	}
	schemaFor(reflect.TypeFor[Problem]())
	responses := map[string]any{}
	for _, p := range problemTypes {
		key := problemResponseName(p.Status)
		if _, ok := responses[key]; ok {
			continue
		}
		var names []string
		for _, q := range problemTypes {
			if q.Status == p.Status {
				names = append(names, q.Name)
			}
		}
		responses[key] = map[string]any{
			"description": http.StatusText(p.Status) + " (problem types: " + strings.Join(names, ", ") + ")",
			"content":     map[string]any{mediaProblem: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
		}
	}

	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		opn := s.operation(rt, schemaFor)
		p := OpenAPIPath(rt.Pattern)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = opn
	}

	var problemList []string
	for _, p := range problemTypes {
		problemList = append(problemList, fmt.Sprintf("`%s` (%d)", s.typeURI(p), p.Status))
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{
			"title":   "Chamber API",
			"version": "1",
			"description": "The API of Chamber, for virtual and hybrid council meetings.\n\n" +
				"Authentication: a browser session cookie (`" + SessionCookie + "`, from `POST /api/v1/auth/login` with mode `cookie`), " +
				"whose writes must carry the session's CSRF token in `" + CSRFHeader + "`; or a bearer API token " +
				"(`Authorization: Bearer chm_…`, from mode `token`), which needs none.\n\n" +
				"Errors are RFC 9457 problem details (`application/problem+json`). Each `type` is a URI that serves a page explaining it: " +
				strings.Join(problemList, ", ") + ".",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":   schemas,
			"responses": responses,
			"securitySchemes": map[string]any{
				"cookieAuth": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie,
					"description": "Browser session. Writes also need the " + CSRFHeader + " header."},
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer",
					"description": "API token (chm_…) for the command line and integrations."},
			},
		},
		"tags": []map[string]string{
			{"name": "accounts"}, {"name": "councils"}, {"name": "committees"}, {"name": "meetings"},
			{"name": "meeting console"}, {"name": "agenda"}, {"name": "records"},
			{"name": "votes", "description": "Signed votes: device keys, polls, ballots and receipts, the verifiable log and record."},
			{"name": "operations"},
			{"name": "pages", "description": "Server-rendered HTML pages."},
		},
	}
	if s.public != "" {
		doc["servers"] = []map[string]string{{"url": s.public}}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	// The reflector refers to definitions in $defs; in the document they live in
	// components.schemas.
	b = bytes.ReplaceAll(b, []byte(`"#/$defs/`), []byte(`"#/components/schemas/`))
	return b, nil
}

// base64Arrays describes fixed-size byte arrays that encode themselves as text (hashes,
// a poll's challenge): standard base64 strings.
func base64Arrays(t reflect.Type) *jsonschema.Schema {
	if t.Kind() != reflect.Array || t.Elem().Kind() != reflect.Uint8 {
		return nil
	}
	if !t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) && !t.Implements(reflect.TypeFor[json.Marshaler]()) {
		return nil
	}
	return &jsonschema.Schema{Type: "string", ContentEncoding: "base64",
		Description: fmt.Sprintf("%d bytes in standard base64", t.Len())}
}

// enumSchema describes the agenda's string types whose values are listed: the kinds of
// interest (each code of conduct takes its own) and the codes of conduct.
func enumSchema(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[agenda.DeclarationKind]():
		var kinds []any
		var codes []string
		for _, c := range agenda.ConductCodes() {
			var words []string
			for _, k := range c.Kinds() {
				kinds = append(kinds, string(k))
				words = append(words, fmt.Sprintf("`%s` (%s)", k, strings.ToLower(k.Label())))
			}
			codes = append(codes, fmt.Sprintf("under %s, %s", c, strings.Join(words, ", ")))
		}
		kinds = append(kinds, string(agenda.OtherInterest))
		return &jsonschema.Schema{Type: "string", Enum: kinds,
			Description: "The kind of interest declared. A declaration takes the kinds of the code of conduct its committee's rules profile follows (`conduct_code`): " +
				strings.Join(codes, "; ") + ". `" + string(agenda.OtherInterest) + "` appears only in earlier records."}
	case reflect.TypeFor[agenda.ConductCode]():
		var codes []any
		var words []string
		for _, c := range agenda.ConductCodes() {
			codes = append(codes, string(c))
			words = append(words, fmt.Sprintf("`%s`: %s", string(c), c))
		}
		return &jsonschema.Schema{Type: "string", Enum: codes,
			Description: "The code of conduct whose kinds of interest members declare. " + strings.Join(words, "; ") + "."}
	}
	return nil
}

func problemResponseName(status int) string { return "Problem" + strconv.Itoa(status) }

// operation describes one route.
func (s *Server) operation(rt Route, schemaFor func(reflect.Type) *jsonschema.Schema) map[string]any {
	opn := map[string]any{
		"operationId": rt.ID,
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
	}
	var params []any
	for _, name := range pathParams(rt.Pattern) {
		p := map[string]any{"name": name, "in": "path", "required": true}
		if desc, ok := stringParams[name]; ok {
			p["schema"] = map[string]any{"type": "string"}
			p["description"] = desc
		} else {
			p["schema"] = map[string]any{"type": "integer", "format": "int64", "minimum": 1}
		}
		params = append(params, p)
	}
	for _, q := range rt.Query {
		sc := map[string]any{"type": q.Type}
		if q.Format != "" {
			sc["format"] = q.Format
		}
		if len(q.Enum) > 0 {
			sc["enum"] = q.Enum
		}
		p := map[string]any{"name": q.Name, "in": "query", "schema": sc}
		if q.Description != "" {
			p["description"] = q.Description
		}
		params = append(params, p)
	}
	if len(params) > 0 {
		opn["parameters"] = params
	}

	switch rt.Access {
	case Open:
		opn["security"] = []any{}
	case Public:
		opn["security"] = []any{map[string]any{}, map[string]any{"cookieAuth": []string{}}, map[string]any{"bearerAuth": []string{}}}
	case SignedIn:
		opn["security"] = []any{map[string]any{"cookieAuth": []string{}}, map[string]any{"bearerAuth": []string{}}}
	}

	if rt.Request != nil {
		sc := schemaFor(rt.Request)
		content := map[string]any{}
		for _, mt := range rt.RequestTypes {
			switch mt {
			case mediaJSON:
				content[mt] = map[string]any{"schema": sc}
			case mediaCSV:
				content[mt] = map[string]any{"schema": map[string]any{"type": "string",
					"description": "A header row naming columns from: number, title (required), description, kind, exempt_paragraph, whole_item_presence, papers; then one row per item."}}
			case mediaForm:
				content[mt] = map[string]any{"schema": map[string]any{"type": "object",
					"properties": map[string]any{"password": map[string]any{"type": "string"}, "password_confirm": map[string]any{"type": "string"}},
					"required":   []string{"password"}}}
			}
		}
		opn["requestBody"] = map[string]any{"required": true, "content": content}
	}

	responses := map[string]any{}
	ok := map[string]any{"description": http.StatusText(rt.Status)}
	switch {
	case rt.Response != nil:
		ok["content"] = map[string]any{rt.Produces: map[string]any{"schema": schemaFor(rt.Response)}}
	case rt.Produces == mediaHTML:
		ok["content"] = map[string]any{mediaHTML: map[string]any{"schema": map[string]any{"type": "string"}}}
	case rt.Status == http.StatusSeeOther:
		ok["headers"] = map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}}
	case rt.Status != http.StatusNoContent && rt.Status != http.StatusSwitchingProtocols:
		ok["content"] = map[string]any{rt.Produces: map[string]any{"schema": map[string]any{}}}
	}
	if rt.Pattern == "/api/v1/auth/login" {
		ok["headers"] = map[string]any{"Set-Cookie": map[string]any{"description": "The session cookie (cookie mode).", "schema": map[string]any{"type": "string"}}}
	}
	responses[strconv.Itoa(rt.Status)] = ok
	if rt.AltStatus != 0 {
		alt := maps.Clone(ok)
		alt["description"] = http.StatusText(rt.AltStatus) + " (a repeated submission, answered as the first)"
		responses[strconv.Itoa(rt.AltStatus)] = alt
	}
	if rt.Pattern == "/api/v1/invitations/{token}/accept" {
		responses["303"] = map[string]any{"description": "Form posts: signed in; go home.",
			"headers": map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}}}
	}
	problem := func(status int) {
		responses[strconv.Itoa(status)] = map[string]any{"$ref": "#/components/responses/" + problemResponseName(status)}
	}
	if rt.Produces != mediaHTML && rt.Status != http.StatusSwitchingProtocols {
		problem(http.StatusInternalServerError)
		problem(http.StatusMethodNotAllowed)
	}
	if len(pathParams(rt.Pattern)) > 0 || rt.Access != Open {
		problem(http.StatusNotFound)
	}
	if rt.Access != Open {
		problem(http.StatusUnauthorized)
	}
	if rt.Access == SignedIn || rt.Write() {
		problem(http.StatusForbidden)
	}
	if rt.Write() {
		problem(http.StatusBadRequest)
		problem(http.StatusRequestEntityTooLarge)
		problem(http.StatusConflict)
		problem(http.StatusUnprocessableEntity)
	}
	if rt.Request != nil {
		problem(http.StatusUnsupportedMediaType)
	}
	if len(rt.Query) > 0 {
		problem(http.StatusUnprocessableEntity)
	}
	switch rt.ID {
	case "login":
		problem(http.StatusUnauthorized)
		problem(http.StatusTooManyRequests)
	case "acceptInvitation", "getInvitation", "useSignInLink":
		problem(http.StatusUnauthorized)
	case "readiness":
		problem(http.StatusServiceUnavailable)
	}
	opn["responses"] = responses
	return opn
}

// schemaName names a Go type's schema: its name, or for a generic type its name and
// its arguments' names run together ("PageMeeting" for agenda.Page[agenda.Meeting]).
func schemaName(t reflect.Type) string {
	name := t.Name()
	base, args, ok := strings.Cut(name, "[")
	if !ok {
		return name
	}
	var b strings.Builder
	b.WriteString(base)
	for arg := range strings.SplitSeq(strings.TrimSuffix(args, "]"), ",") {
		if i := strings.LastIndexAny(arg, "./"); i >= 0 {
			arg = arg[i+1:]
		}
		b.WriteString(arg)
	}
	return b.String()
}
