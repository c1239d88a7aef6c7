package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/web"
)

func TestHealthAndReadiness(t *testing.T) {
	db := dbtest.Open(t, migrations.SQLite)
	var redisDown bool
	e := newEnv(t, db,
		web.Check{Name: "database", Check: db.Ping},
		web.Check{Name: "redis", Check: func(context.Context) error {
			if redisDown {
				return errors.New("dial tcp 10.0.0.1:6379: connection refused")
			}
			return nil
		}},
	)
	e.public().get("/healthz").want(http.StatusOK)
	var ok struct{ Status string }
	e.public().get("/readyz").want(http.StatusOK).into(&ok)
	if ok.Status != "ready" {
		t.Errorf("readyz: %+v", ok)
	}
	redisDown = true
	p := e.public().get("/readyz").problem(http.StatusServiceUnavailable, "not-ready")
	if p.Checks["redis"] != "failed" || p.Checks["database"] != "ok" {
		t.Errorf("checks %v", p.Checks)
	}
	if r := e.public().get("/readyz"); strings.Contains(string(r.body), "10.0.0.1") {
		t.Errorf("readyz reveals the error: %s", r.body)
	}
	e.public().get("/healthz").want(http.StatusOK)
}

// TestMetrics: requests are counted and timed by route pattern, never by raw path.
func TestMetrics(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	w.public().get(path("/api/v1/meetings/%d", w.meeting)).want(http.StatusOK)
	w.public().get("/api/v1/meetings/123456").want(http.StatusNotFound)
	w.public().get("/api/v1/no/such/thing").want(http.StatusNotFound)
	r := w.public().get("/metrics").want(http.StatusOK)
	text := string(r.body)
	for _, want := range []string{
		`chamber_http_requests_total{code="200",method="get",route="/api/v1/meetings/{meeting}"}`,
		`chamber_http_requests_total{code="404",method="get",route="/api/v1/meetings/{meeting}"} 1`,
		`chamber_http_requests_total{code="404",method="get",route="unmatched"} 1`,
		`chamber_http_request_duration_seconds_bucket{method="post",route="/api/v1/meetings/{meeting}/agenda/import",le="+Inf"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, m := range regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(text, -1) {
		if regexp.MustCompile(`/\d+`).MatchString(m[1]) || strings.Contains(m[1], "chl_") {
			t.Errorf("metrics label a raw path: %s", m[0])
		}
	}
}

type openAPIDoc struct {
	OpenAPI    string                               `json:"openapi"`
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]any `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPICoversTheMux: every route registered on the mux is in the OpenAPI
// document with the same method and path, and every operation of the document is
// registered; the mux sends a request for each to its route; every $ref resolves.
func TestOpenAPICoversTheMux(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	r := e.public().get("/api/v1/openapi.json").want(http.StatusOK)
	var doc openAPIDoc
	r.into(&doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}

	registered, fallbacks := web.Registered(e.srv)
	if len(fallbacks) == 0 {
		t.Errorf("no catch-alls registered")
	}
	var inDoc []string
	for p, ops := range doc.Paths {
		for method := range ops {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+p)
		}
	}
	var onMux []string
	for _, pattern := range registered {
		method, p, _ := strings.Cut(pattern, " ")
		onMux = append(onMux, method+" "+web.OpenAPIPath(p))
	}
	slices.Sort(inDoc)
	slices.Sort(onMux)
	for _, op := range onMux {
		if _, found := slices.BinarySearch(inDoc, op); !found {
			t.Errorf("%s is on the mux but not in the OpenAPI document", op)
		}
	}
	for _, op := range inDoc {
		if _, found := slices.BinarySearch(onMux, op); !found {
			t.Errorf("%s is in the OpenAPI document but not on the mux", op)
		}
	}
	if len(onMux) != len(e.srv.Routes()) {
		t.Errorf("%d patterns on the mux, %d routes", len(onMux), len(e.srv.Routes()))
	}

	// The mux sends each route's requests, and only those, to it.
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, rt := range e.srv.Routes() {
		p := param.ReplaceAllString(strings.ReplaceAll(rt.Pattern, "{$}", ""), "7")
		if p == "" {
			p = "/"
		}
		req := httptest.NewRequest(rt.Method, p, nil)
		if got := web.MuxPattern(e.srv, req); got != rt.Method+" "+rt.Pattern {
			t.Errorf("%s %s goes to %q, want %q", rt.Method, p, got, rt.Method+" "+rt.Pattern)
		}
		op := doc.Paths[web.OpenAPIPath(rt.Pattern)][strings.ToLower(rt.Method)]
		if op["operationId"] != rt.ID || rt.ID == "" || rt.Summary == "" {
			t.Errorf("%s %s: operationId %v, route id %q, summary %q", rt.Method, rt.Pattern, op["operationId"], rt.ID, rt.Summary)
		}
		if _, ok := op["responses"].(map[string]any)["500"]; !ok && strings.HasPrefix(rt.Pattern, "/api/") && rt.ID != "rtc" {
			t.Errorf("%s %s: no problem responses", rt.Method, rt.Pattern)
		}
	}

	// Every $ref points at something in the document.
	var raw any
	json.Unmarshal(r.body, &raw)
	refs := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					refs++
					if !resolves(raw, x.(string)) {
						t.Errorf("$ref %v does not resolve", x)
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
	if refs < 50 {
		t.Errorf("only %d $refs", refs)
	}
	for _, name := range []string{"Meeting", "Item", "Problem", "PageMeeting", "LoginRequest", "MeetingInput", "FieldError"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
}

func resolves(doc any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := doc
	for seg := range strings.SplitSeq(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}

// TestProblemPagesAndFallbacks: problem types have pages; unknown API paths and wrong
// methods are problems; unknown pages are pages.
func TestProblemPagesAndFallbacks(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	for _, p := range web.ProblemTypes() {
		r := e.public().get("/problems/" + p.Name).want(http.StatusOK)
		if !strings.Contains(string(r.body), p.Title) {
			t.Errorf("page for %s lacks its title", p.Name)
		}
	}
	e.public().get("/problems/nonsense").want(http.StatusNotFound)
	e.public().get("/api/v2/meetings").problem(http.StatusNotFound, "not-found")
	e.public().get("/api/v1/meetings/0").problem(http.StatusNotFound, "not-found")
	e.public().get("/api/v1/meetings/-3/items").problem(http.StatusNotFound, "not-found")
	r := e.public().do("DELETE", "/api/v1/meetings", nil)
	r.problem(http.StatusMethodNotAllowed, "method-not-allowed")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("Allow %q", allow)
	}
	if r := e.public().do("POST", "/healthz", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /healthz: %d Allow %q", r.status, r.header.Get("Allow"))
	}
	page := e.public().get("/no/such/page")
	if page.status != http.StatusNotFound || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: %d %s", page.status, page.header.Get("Content-Type"))
	}
	css := e.public().get("/static/chamber.css").want(http.StatusOK)
	if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet served as %s", css.header.Get("Content-Type"))
	}
	e.public().get("/static/..%2fembed.go").want(http.StatusNotFound)
	if id := e.public().get("/healthz").header.Get("X-Request-Id"); len(id) != 16 {
		t.Errorf("X-Request-Id %q", id)
	}
}
