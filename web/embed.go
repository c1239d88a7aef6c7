package web

import "embed"

// files holds the HTML templates and the static files the pages use.
//
//go:embed templates static
var files embed.FS
