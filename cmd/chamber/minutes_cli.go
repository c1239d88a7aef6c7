package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/chamber/chamber/agenda/minutes"
)

func runMinutes(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "minutes", args, map[string]func(context.Context, env, []string) error{
		"export":   minutesExport,
		"versions": minutesVersions,
	})
}

// minutesExport writes a meeting's minutes in one format, as the server exports them:
// the public sees the published minutes, a clerk the latest version.
func minutesExport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("minutes export", e)
	cf := addClientFlags(fs)
	format := fs.String("format", "html", "html, md, pdf, csv, popolo or record")
	version := fs.Int("version", 0, "the version to export (default: the latest the server shows you)")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: chamber minutes export MEETING --format html|md|pdf|csv|popolo|record [--version N] [--out FILE]")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return usagef("MEETING is a meeting's id, not %q", fs.Arg(0))
	}
	f, err := minutes.ParseFormat(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/api/v1/meetings/%d/minutes%s", id, f.Extension())
	if *version > 0 {
		path += "?version=" + strconv.Itoa(*version)
	}
	data, err := c.get(ctx, path)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s (%d bytes)\n", *out, len(data))
	return nil
}

// minutesVersions lists the versions of a meeting's minutes.
func minutesVersions(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("minutes versions", e)
	cf := addClientFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: chamber minutes versions MEETING")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return usagef("MEETING is a meeting's id, not %q", fs.Arg(0))
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var hs []minutes.Header
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d/minutes/versions", id), nil, "", &hs); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATUS\tDRAFTED")
	for _, h := range hs {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", h.Version, h.Status, h.Drafted.At.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
