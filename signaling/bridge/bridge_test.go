package bridge_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/bridge"
	"github.com/chamber/chamber/voting"
)

func TestCastErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err        error
		code       string
		reason     string
		notRefusal bool
	}{
		{fmt.Errorf("parse: %w", voting.ErrMalformed), signaling.CodeBallotMalformed, "", false},
		{fmt.Errorf("x: %w", voting.ErrReplay), signaling.CodeReplay, "", false},
		{(&voting.Decision{Voter: 3, Reason: voting.ReasonInterest}).Err(), signaling.CodeNotEligible, "interest", false},
		{fmt.Errorf("poll 3: %w", voting.ErrPollClosed), signaling.CodePollClosed, "", false},
		{errors.New("connection refused"), "", "", true},
	} {
		err := bridge.CastError(tc.err)
		var ce *signaling.CastError
		if !errors.As(err, &ce) {
			if !tc.notRefusal {
				t.Errorf("bridge.CastError(%v) = %v, want code %s", tc.err, err, tc.code)
			}
			continue
		}
		if tc.notRefusal || ce.Code != tc.code || ce.Reason != tc.reason {
			t.Errorf("bridge.CastError(%v) = %+v, want code %q reason %q", tc.err, ce, tc.code, tc.reason)
		}
	}
	// Every voting error a ballot can meet has a code.
	for _, err := range []error{voting.ErrMalformed, voting.ErrBadSignature, voting.ErrReplay, voting.ErrWrongPoll,
		voting.ErrPollClosed, voting.ErrPollOpen, voting.ErrInvalidChoice, voting.ErrNotEligible, voting.ErrKeyRevoked,
		voting.ErrKeyNotApproved, voting.ErrWrongKey, voting.ErrNoTie, voting.ErrNoCastingVote, voting.ErrNotPresiding,
		voting.ErrForbidden, voting.ErrUnauthenticated, voting.ErrNotFound} {
		if !errors.As(bridge.CastError(err), new(*signaling.CastError)) {
			t.Errorf("%v has no code", err)
		}
	}
}
