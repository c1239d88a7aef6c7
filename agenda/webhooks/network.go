package webhooks

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// nonPublic are the special-purpose ranges (RFC 6890 and its successors) that
// netip.Addr's predicates do not already cover: nothing on the public internet is
// there, and some (carrier-grade NAT, NAT64, 6to4, Teredo) can lead back inside.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// public reports whether a is an address on the public internet.
func public(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsLoopback(), a.IsPrivate(), a.IsLinkLocalUnicast(),
		a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(), a.IsMulticast():
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// addressPolicy says where deliveries may go: public addresses, and those in allow.
type addressPolicy struct {
	allow []netip.Prefix
}

func (p addressPolicy) permits(a netip.Addr) bool {
	a = a.Unmap()
	if public(a) {
		return true
	}
	for _, n := range p.allow {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// control refuses a connection to an address the policy does not permit. It runs on the
// address about to be dialled, after name resolution, so a name that resolves (or is
// rebound) to an inside address is refused as well.
func (p addressPolicy) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%s: %w", address, ErrAddressRefused)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !p.permits(a) {
		return fmt.Errorf("%s is not a public address: %w", host, ErrAddressRefused)
	}
	return nil
}

// client returns the HTTP client deliveries are sent with: no proxy (the address check
// must see where the request really goes), no redirects, and the given timeout.
func (p addressPolicy) client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second, ControlContext: p.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// MaxURLLength is the longest endpoint URL accepted.
const MaxURLLength = 2000

// checkURL checks an endpoint URL: https, or http to localhost for development; no
// credentials or fragment; and not an address literal deliveries may not go to.
func (p addressPolicy) checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalid("url is required")
	}
	if len(raw) > MaxURLLength {
		return "", invalid("url is longer than %d bytes", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", invalid("url must be an absolute https URL")
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if !localhost(host) {
			return "", invalid("url must use https (http is allowed only for localhost, 127.0.0.1 and [::1])")
		}
	default:
		return "", invalid("url must use https")
	}
	if u.User != nil {
		return "", invalid("url must not carry a user name or password; the signature authenticates requests")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", invalid("url must not have a fragment")
	}
	if port := u.Port(); port != "" {
		if n, err := netip.ParseAddrPort("127.0.0.1:" + port); err != nil || n.Port() == 0 {
			return "", invalid("url has an invalid port")
		}
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && !a.IsLoopback() && !p.permits(a) {
		return "", invalid("url names %s, which is not a public address", a)
	}
	return u.String(), nil
}

func localhost(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}
