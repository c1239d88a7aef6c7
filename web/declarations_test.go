package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// TestOpenAPIDeclarationKinds: the OpenAPI document lists the kinds of interest of
// each code of conduct and the codes a rules profile may name, and a declaration and a
// profile refer to them.
func TestOpenAPIDeclarationKinds(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	var doc openAPIDoc
	e.public().get("/api/v1/openapi.json").want(http.StatusOK).into(&doc)
	enum := func(name string) ([]string, string) {
		t.Helper()
		sc, ok := doc.Components.Schemas[name].(map[string]any)
		if !ok {
			t.Fatalf("no schema %s", name)
		}
		var out []string
		for _, v := range sc["enum"].([]any) {
			out = append(out, v.(string))
		}
		desc, _ := sc["description"].(string)
		return out, desc
	}
	kinds, desc := enum("DeclarationKind")
	if want := []string{"pecuniary", "registrable", "non_registrable", "personal", "prejudicial", "other"}; !slices.Equal(kinds, want) {
		t.Errorf("DeclarationKind enum: got %v, want %v", kinds, want)
	}
	for _, want := range []string{"`personal` (personal interest)", "`prejudicial` (prejudicial interest)",
		"`pecuniary` (disclosable pecuniary interest)", "Welsh code of conduct"} {
		if !strings.Contains(desc, want) {
			t.Errorf("DeclarationKind description lacks %q: %s", want, desc)
		}
	}
	codes, desc := enum("ConductCode")
	if !slices.Equal(codes, []string{"england", "wales"}) {
		t.Errorf("ConductCode enum: got %v", codes)
	}
	if want := "`wales`: the Welsh code of conduct"; !strings.Contains(desc, want) {
		t.Errorf("ConductCode description lacks %q: %s", want, desc)
	}
	for schema, field := range map[string]string{"Declaration": "kind", "DeclarationInput": "kind", "Profile": "conduct_code", "ProfileOverrides": "conduct_code"} {
		sc, _ := doc.Components.Schemas[schema].(map[string]any)
		props, _ := sc["properties"].(map[string]any)
		prop, _ := props[field].(map[string]any)
		if ref, _ := prop["$ref"].(string); !strings.HasPrefix(ref, "#/components/schemas/") {
			t.Errorf("%s.%s: got %v, want a $ref to the listed values", schema, field, prop)
		}
	}
}
