package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// credentials are what `chamber login` keeps for the other commands.
type credentials struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	Email  string `json:"email,omitempty"`
}

// clientFlags are the flags every command that talks to a server has.
type clientFlags struct {
	server    *string
	token     *string
	configDir *string
	json      *bool
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		server:    fs.String("server", "", "server URL (default: the one you logged in to)"),
		token:     fs.String("token", "", "API token (default: the one kept by chamber login)"),
		configDir: fs.String("config-dir", "", "directory for kept credentials (default: the user config directory/chamber)"),
		json:      fs.Bool("json", false, "print JSON for scripts"),
	}
}

func (f clientFlags) credentialsPath() (string, error) {
	dir := *f.configDir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find config directory: %w (set --config-dir)", err)
		}
		dir = filepath.Join(base, "chamber")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

func (f clientFlags) load() (credentials, error) {
	var c credentials
	path, err := f.credentialsPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return c, nil
}

func (f clientFlags) save(c credentials) (string, error) {
	path, err := f.credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	return path, os.WriteFile(path, append(b, '\n'), 0o600)
}

// client returns an API client from the flags and kept credentials.
func (f clientFlags) client() (*client, error) {
	c, err := f.load()
	if err != nil {
		return nil, err
	}
	if *f.server != "" {
		if *f.server != c.Server {
			c.Token = "" // a kept token belongs to the server it came from
		}
		c.Server = *f.server
	}
	if *f.token != "" {
		c.Token = *f.token
	}
	if c.Server == "" {
		return nil, usagef("no server: run chamber login --server URL first, or pass --server")
	}
	return newClient(c.Server, c.Token)
}

// client calls the Chamber API.
type client struct {
	base  *url.URL
	token string
	http  *http.Client
}

func newClient(server, token string) (*client, error) {
	u, err := url.Parse(strings.TrimSuffix(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("server %q is not an http(s) URL", server)
	}
	return &client{base: u, token: token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// problem is an RFC 9457 problem document as the server sends it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Row     int    `json:"row"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// apiError is a refusal from the server.
type apiError struct {
	status int
	p      problem
	// retryAfter is how long the server asked to wait (429 and 503), if it said.
	retryAfter time.Duration
}

func (e *apiError) Error() string {
	var b strings.Builder
	title := e.p.Title
	if title == "" {
		title = http.StatusText(e.status)
	}
	fmt.Fprintf(&b, "%s (%d)", title, e.status)
	if e.p.Detail != "" {
		b.WriteString(": " + e.p.Detail)
	}
	for _, fe := range e.p.Errors {
		b.WriteString("\n  ")
		if fe.Row > 0 {
			fmt.Fprintf(&b, "row %d, ", fe.Row)
		}
		fmt.Fprintf(&b, "%s: %s", fe.Field, fe.Message)
	}
	if e.status == http.StatusUnauthorized {
		b.WriteString("\n  (run chamber login)")
	}
	return b.String()
}

// call sends a request and decodes a JSON answer into out (unless out is nil). body is
// JSON-encoded unless it is an io.Reader, which is sent as contentType.
func (c *client) call(ctx context.Context, method, path string, body any, contentType string, out any) error {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return err
		}
		r, contentType = bytes.NewReader(buf), "application/json"
	}
	data, err := c.send(ctx, method, path, r, contentType, "application/json", 64<<20)
	if err != nil || out == nil {
		return err
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// get fetches path as it is (an export, say), whatever its type.
func (c *client) get(ctx context.Context, path string) ([]byte, error) {
	return c.send(ctx, "GET", path, nil, "", "", 256<<20)
}

// send makes a request and returns the answer's body, at most limit bytes; an answer
// of 300 or more is an *apiError.
func (c *client) send(ctx context.Context, method, path string, body io.Reader, contentType, accept string, limit int64) ([]byte, error) {
	u := c.base.JoinPath(strings.SplitN(path, "?", 2)[0])
	if _, q, ok := strings.Cut(path, "?"); ok {
		u.RawQuery = q
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode >= 300 {
		e := &apiError{status: resp.StatusCode}
		json.Unmarshal(data, &e.p)
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			e.retryAfter = time.Duration(secs) * time.Second
		}
		return nil, e
	}
	return data, nil
}
