package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chamber/chamber/agenda"
)

func runLogin(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("login", e)
	cf := addClientFlags(fs)
	email := fs.String("email", "", "your email address (required)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	tokenName := fs.String("token-name", "", "name for the API token (default: chamber CLI on HOST)")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	creds, err := cf.load()
	if err != nil {
		return err
	}
	if *cf.server != "" {
		creds.Server = *cf.server
	}
	if creds.Server == "" {
		return usagef("login needs --server URL")
	}
	if *email == "" {
		return usagef("login needs --email")
	}
	password, err := readPassword(e, *pwStdin, "Password for "+*email+": ")
	if err != nil {
		return err
	}
	if *tokenName == "" {
		host, _ := os.Hostname()
		*tokenName = "chamber CLI on " + host
	}
	c, err := newClient(creds.Server, "")
	if err != nil {
		return err
	}
	var resp struct {
		Token string `json:"token"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/login", map[string]string{
		"email": *email, "password": password, "mode": "token", "token_name": *tokenName,
	}, "", &resp); err != nil {
		return err
	}
	if resp.Token == "" {
		return fmt.Errorf("the server did not return a token")
	}
	creds.Token, creds.Email = resp.Token, *email
	path, err := cf.save(creds)
	if err != nil {
		return fmt.Errorf("keep credentials: %w", err)
	}
	fmt.Fprintf(e.stdout, "signed in to %s as %s (token kept in %s)\n", creds.Server, *email, path)
	return nil
}

// runLogout revokes the kept token on its server, then forgets it. A token the server
// no longer knows is forgotten all the same.
func runLogout(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("logout", e)
	cf := addClientFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	path, err := cf.credentialsPath()
	if err != nil {
		return err
	}
	if creds, err := cf.load(); err == nil && creds.Server != "" && creds.Token != "" {
		c, err := newClient(creds.Server, creds.Token)
		if err != nil {
			return err
		}
		var ae *apiError
		if err := c.call(ctx, "POST", "/api/v1/auth/logout", nil, "", nil); err != nil && !(errors.As(err, &ae) && ae.status == http.StatusUnauthorized) {
			return fmt.Errorf("revoke the token on %s: %w (pass --server to reach it, or delete %s)", creds.Server, err, path)
		}
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	fmt.Fprintln(e.stdout, "signed out")
	return nil
}

func runMeeting(ctx context.Context, e env, args []string) error {
	subs := map[string]func(context.Context, env, []string) error{
		"create": meetingCreate,
		"list":   meetingList,
		"show":   meetingShow,
	}
	for _, action := range []string{"start", "next", "previous", "adjourn", "resume", "close"} {
		subs[action] = func(ctx context.Context, e env, args []string) error { return meetingAction(ctx, e, action, args) }
	}
	return subcommand(ctx, e, "meeting", args, subs)
}

// parseTime reads RFC 3339, or a local date and time such as 2026-12-01T18:30 or
// "2026-12-01 18:30".
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time like 2026-12-01T18:30 or RFC 3339", s)
}

func meetingCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("meeting create", e)
	cf := addClientFlags(fs)
	committee := fs.Int64("committee", 0, "committee id (required)")
	title := fs.String("title", "", "meeting title (required)")
	starts := fs.String("starts", "", "start, e.g. 2026-12-01T18:30 (local time) or RFC 3339 (required)")
	location := fs.String("location", "", "where it takes place")
	publish := fs.Bool("publish", false, "publish the meeting and its agenda to the public")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if *committee == 0 || *title == "" || *starts == "" {
		return usagef("meeting create needs --committee, --title and --starts")
	}
	at, err := parseTime(*starts)
	if err != nil {
		return usagef("--starts: %v", err)
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.call(ctx, "POST", "/api/v1/meetings", agenda.MeetingInput{
		CommitteeID: *committee, Title: *title, StartsAt: at, Location: *location, Published: *publish,
	}, "", &raw); err != nil {
		return err
	}
	return printMeeting(e.stdout, raw, *cf.json, "created")
}

func printMeeting(w io.Writer, raw json.RawMessage, asJSON bool, verb string) error {
	if asJSON {
		_, err := w.Write(append(raw, '\n'))
		return err
	}
	var m agenda.Meeting
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s meeting %d: %s — %s, %s session, starts %s\n", verb, m.ID, m.Title,
		humanStatus(m.Status), m.Session, m.StartsAt.Local().Format("Mon 2 Jan 2006 15:04"))
	return nil
}

func humanStatus(s agenda.MeetingStatus) string { return strings.ReplaceAll(string(s), "_", " ") }

func meetingList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("meeting list", e)
	cf := addClientFlags(fs)
	committee := fs.Int64("committee", 0, "only this committee's meetings")
	status := fs.String("status", "", "only meetings in this status (scheduled, in_progress, adjourned, closed)")
	limit := fs.Int("limit", 0, "at most this many (default: all)")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var all []json.RawMessage
	cursor := ""
	for {
		q := url.Values{}
		if *committee != 0 {
			q.Set("committee", strconv.FormatInt(*committee, 10))
		}
		if *status != "" {
			q.Set("status", *status)
		}
		q.Set("limit", strconv.Itoa(agenda.MaxPageSize))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := c.call(ctx, "GET", "/api/v1/meetings?"+q.Encode(), nil, "", &page); err != nil {
			return err
		}
		all = append(all, page.Items...)
		if page.Next == "" || (*limit > 0 && len(all) >= *limit) {
			break
		}
		cursor = page.Next
	}
	if *limit > 0 && len(all) > *limit {
		all = all[:*limit]
	}
	if *cf.json {
		if all == nil {
			all = []json.RawMessage{}
		}
		return writeJSON(e.stdout, all)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTS\tSTATUS\tCOMMITTEE\tTITLE")
	for _, raw := range all {
		var m agenda.Meeting
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", m.ID, m.StartsAt.Local().Format("2006-01-02 15:04"), humanStatus(m.Status), m.CommitteeID, m.Title)
	}
	return tw.Flush()
}

// meetingID reads the single MEETING argument.
func meetingID(fs interface{ Args() []string }, usage string) (int64, error) {
	if len(fs.Args()) != 1 {
		return 0, usagef("usage: %s", usage)
	}
	id, err := strconv.ParseInt(fs.Args()[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%q is not a meeting id", fs.Args()[0])
	}
	return id, nil
}

func meetingShow(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("meeting show", e)
	cf := addClientFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	id, err := meetingID(fs, "chamber meeting show MEETING")
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d", id), nil, "", &raw); err != nil {
		return err
	}
	var itemsRaw json.RawMessage
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/items", id), nil, "", &itemsRaw); err != nil {
		return err
	}
	if *cf.json {
		return writeJSON(e.stdout, map[string]json.RawMessage{"meeting": raw, "items": itemsRaw})
	}
	var m agenda.Meeting
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Meeting %d: %s\n", m.ID, m.Title)
	fmt.Fprintf(e.stdout, "  starts    %s\n", m.StartsAt.Local().Format("Mon 2 Jan 2006 15:04"))
	if m.Location != "" {
		fmt.Fprintf(e.stdout, "  location  %s\n", m.Location)
	}
	fmt.Fprintf(e.stdout, "  status    %s, %s session", humanStatus(m.Status), m.Session)
	if m.PrivateParagraph != 0 {
		fmt.Fprintf(e.stdout, " (Schedule 12A paragraph %d)", m.PrivateParagraph)
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintf(e.stdout, "  published %v\n\n", m.Published)
	return printItems(e.stdout, itemsRaw)
}

func printItems(w io.Writer, raw json.RawMessage) error {
	var items []agenda.Item
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	if len(items) == 0 {
		fmt.Fprintln(w, "The agenda is empty.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tNO.\tKIND\tSTATUS\tTITLE")
	for _, it := range items {
		mark := " "
		if it.Status == agenda.Current {
			mark = ">"
		}
		kind := string(it.Kind)
		if it.Kind == agenda.Exempt && it.ExemptParagraph != 0 {
			kind = fmt.Sprintf("exempt (para %d)", it.ExemptParagraph)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, it.Number, kind, it.Status, it.Title)
	}
	return tw.Flush()
}

func meetingAction(ctx context.Context, e env, action string, args []string) error {
	fs := newFlagSet("meeting "+action, e)
	cf := addClientFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	id, err := meetingID(fs, "chamber meeting "+action+" MEETING")
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/%s", id, action), nil, "", &raw); err != nil {
		return err
	}
	if *cf.json {
		return printMeeting(e.stdout, raw, true, "")
	}
	var m agenda.Meeting
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "meeting %d: %s, %s session", m.ID, humanStatus(m.Status), m.Session)
	if m.CurrentItemID != 0 {
		var it agenda.Item
		if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/items/%d", id, m.CurrentItemID), nil, "", &it); err == nil {
			fmt.Fprintf(e.stdout, "; now on item %s: %s", it.Number, it.Title)
		}
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func runAgenda(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "agenda", args, map[string]func(context.Context, env, []string) error{
		"import": agendaImport,
		"show":   agendaShow,
	})
}

func agendaImport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("agenda import", e)
	cf := addClientFlags(fs)
	meeting := fs.Int64("meeting", 0, "meeting id (required)")
	replace := fs.Bool("replace", false, "replace the agenda instead of adding to it (before the meeting starts)")
	format := fs.String("format", "", "csv or json (default: from the file's extension)")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if *meeting == 0 || fs.NArg() != 1 {
		return usagef("usage: chamber agenda import --meeting MEETING [--replace] FILE")
	}
	file := fs.Arg(0)
	if *format == "" {
		*format = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	var contentType string
	switch *format {
	case "csv":
		contentType = "text/csv"
	case "json":
		contentType = "application/json"
	default:
		return usagef("cannot tell the format of %s: pass --format csv or --format json", file)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	c, err := cf.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	path := fmt.Sprintf("/api/v1/meetings/%d/agenda/import?replace=%t", *meeting, *replace)
	if err := c.call(ctx, "POST", path, f, contentType, &raw); err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	if *cf.json {
		_, err := e.stdout.Write(append(raw, '\n'))
		return err
	}
	var res agenda.ImportResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	verb := "added"
	if res.Replaced {
		verb = "replaced the agenda with"
	}
	fmt.Fprintf(e.stdout, "%s %d items from %s\n", verb, len(res.Items), file)
	return nil
}

func agendaShow(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("agenda show", e)
	cf := addClientFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	id, err := meetingID(fs, "chamber agenda show MEETING")
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/items", id), nil, "", &raw); err != nil {
		return err
	}
	if *cf.json {
		_, err := e.stdout.Write(append(raw, '\n'))
		return err
	}
	return printItems(e.stdout, raw)
}
