// Package browsertest drives Chamber's web pages in headless Chromium, end to end:
// each test starts a server wired as `chamber serve` wires it (SQLite, the in-process
// bus, the SFU on loopback), takes part in meetings through the API and with Go WebRTC
// peers, and checks what the pages show and do. The tests find Chromium through
// CHAMBER_TEST_CHROMIUM or at /usr/bin/chromium and are skipped without it, unless
// CHAMBER_TEST_REQUIRE_SERVICES=1. The accessibility checks run axe-core, whose
// script CHAMBER_TEST_AXE names (.ci/services.sh installs it), in each page; they too
// are skipped without it unless CHAMBER_TEST_REQUIRE_SERVICES=1. Screenshots at phone
// and desktop widths go to CHAMBER_TEST_SCREENSHOTS, or a directory under the system's
// temporary directory; each test logs where.
package browsertest
