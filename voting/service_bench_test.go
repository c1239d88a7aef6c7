package voting_test

import (
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
)

// BenchmarkServiceCast measures what a ballot costs the server beyond HTTP: its checks,
// the group commit with its log entry and its receipt, with 150 ballots cast at once
// in each poll (six members each voting 25 times over), on SQLite and, with
// CHAMBER_TEST_DATABASE_URL, PostgreSQL. One op is one ballot; signing, which happens on
// the members' devices, is not timed.
//
//	go test ./voting -run '^$' -bench ServiceCast -benchtime 3000x
func BenchmarkServiceCast(b *testing.B) {
	for _, d := range []migrations.Dialect{migrations.SQLite, migrations.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			w := newWorld(b, dbtest.Open(b, d))
			// The service as a server runs it: progress events at most four times a
			// second, and its log written (here, to nowhere).
			svc := voting.NewService(w.store, w.agenda, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: w.logKey,
				Origin: "https://chamber.example.gov.uk/", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			f := w.meeting("england")
			voters := []agenda.Actor{w.chair, w.vice, w.m1, w.m2, w.m3, w.m4}
			f.arrive(agenda.InRoom, voters...)
			f.take(standardItem)
			const burst = 150
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += burst {
				b.StopTimer()
				p, err := svc.OpenPoll(w.ctx, w.clerk, f.input(standardItem))
				if err != nil {
					b.Fatal(err)
				}
				ballots := make([]voting.SignedBallot, min(burst, b.N-done))
				for i := range ballots {
					// Each member votes again and again, always the same way, so that
					// whichever ballot lands last the motion carries four to two and no
					// tie awaits a casting vote.
					choice := voting.OptionFor
					if i%len(voters) >= 4 {
						choice = voting.OptionAgainst
					}
					ballots[i] = w.ballot(p, voters[i%len(voters)], choice)
				}
				b.StartTimer()
				var wg sync.WaitGroup
				for i, sb := range ballots {
					wg.Go(func() {
						if _, err := svc.Cast(w.ctx, voters[i%len(voters)], sb); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				if _, err := svc.Close(w.ctx, w.chair, p.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
