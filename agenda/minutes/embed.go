package minutes

import "embed"

// templates holds the HTML page's template.
//
//go:embed templates
var templates embed.FS
