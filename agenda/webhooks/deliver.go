package webhooks

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reapBatch is how many deliveries with a lapsed lease one pass recovers.
const reapBatch = 100

func (s *Service) deliverLoop(ctx context.Context) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // guards inFlight
		inFlight int
		done     = make(chan struct{}, 1) // an attempt finished: a slot is free
	)
	defer wg.Wait()
	for {
		mu.Lock()
		free := s.opts.Concurrency - inFlight
		mu.Unlock()
		if free > 0 {
			batch, err := s.claim(ctx, free)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				s.log.Error("claim webhook deliveries", "err", err)
			}
			mu.Lock()
			inFlight += len(batch)
			mu.Unlock()
			for _, c := range batch {
				wg.Go(func() {
					s.attempt(ctx, c)
					mu.Lock()
					inFlight--
					mu.Unlock()
					select {
					case done <- struct{}{}:
					default:
					}
				})
			}
			if err == nil && len(batch) == free {
				continue // there may be more due
			}
		}
		t := time.NewTimer(s.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
}

// claimed is a delivery a worker holds, with its endpoint as of the claim.
type claimed struct {
	Delivery
	endpoint Endpoint
	claim    string
}

// claim recovers deliveries whose worker died, then takes up to n due ones.
func (s *Service) claim(ctx context.Context, n int) ([]claimed, error) {
	token, err := claimToken(s.random)
	if err != nil {
		return nil, err
	}
	var out []claimed
	err = s.store.Update(ctx, func(tx Tx) error {
		out = nil
		now := s.clock()
		if err := s.reap(ctx, tx, now); err != nil {
			return err
		}
		ds, err := tx.ClaimDue(ctx, now, now.Add(s.opts.Lease), token, n)
		if err != nil {
			return err
		}
		endpoints := map[int64]Endpoint{}
		for _, d := range ds {
			e, ok := endpoints[d.EndpointID]
			if !ok {
				if e, err = tx.GetEndpoint(ctx, d.EndpointID); err != nil {
					return err
				}
				endpoints[e.ID] = e
			}
			out = append(out, claimed{Delivery: d, endpoint: e, claim: token})
		}
		return nil
	})
	return out, err
}

// reap logs an attempt without an outcome for each delivery whose lease ran out (its
// worker stopped mid-attempt) and makes it due again, or fails it if that was its last.
func (s *Service) reap(ctx context.Context, tx Tx, now time.Time) error {
	ds, err := tx.ExpiredLeases(ctx, now, reapBatch)
	if err != nil {
		return err
	}
	for _, d := range ds {
		at := now
		if d.LockedUntil != nil {
			at = d.LockedUntil.Add(-s.opts.Lease)
		}
		const msg = "no outcome recorded: the worker stopped before the attempt finished"
		if err := tx.LogAttempt(ctx, &Attempt{DeliveryID: d.ID, Number: d.Attempts, At: at, Error: msg}); err != nil {
			return err
		}
		d.LastAttemptAt, d.LastStatusCode, d.LastError = &at, 0, msg
		if d.Attempts >= s.opts.MaxAttempts {
			d.Status, d.NextAttemptAt = Failed, nil
		} else {
			d.NextAttemptAt = &now
		}
		if _, err := tx.SettleDelivery(ctx, d, ""); err != nil {
			return err
		}
		s.log.Warn("webhook delivery lease lapsed", "webhook", d.EndpointID, "delivery", d.ID, "attempt", d.Attempts)
	}
	return nil
}

func claimToken(random io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("make a claim token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// outcome is what one attempt came to.
type outcome struct {
	status     int
	err        error
	response   string
	retryAfter time.Duration
	duration   time.Duration
}

// attempt sends a claimed delivery and records what happened.
func (s *Service) attempt(ctx context.Context, c claimed) {
	at := s.clock()
	o := s.send(ctx, c, at)
	// The record outlives Run's context: the attempt happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ctx.Err() != nil && o.status == 0 {
		// Cut short by shutdown: the attempt does not count, and is made again at once
		// by the next worker (the receiver may have had it: at least once).
		d := c.Delivery
		d.Attempts--
		if _, err := s.settle(rctx, d, c.claim, nil); err != nil {
			s.log.Error("release webhook delivery", "delivery", d.ID, "err", err)
		}
		return
	}
	a := &Attempt{DeliveryID: c.ID, Number: c.Attempts, At: at, DurationMS: o.duration.Milliseconds(),
		StatusCode: o.status, Response: o.response}
	if o.err != nil {
		a.Error = loggable(o.err.Error())
	}
	d := c.Delivery
	d.LastAttemptAt, d.LastStatusCode, d.LastError = &at, o.status, a.Error
	log := s.log.With("webhook", c.EndpointID, "delivery", c.ID, "type", c.Type, "attempt", c.Attempts)
	switch {
	case o.err == nil && o.status >= 200 && o.status < 300:
		now := s.clock()
		d.Status, d.DeliveredAt, d.NextAttemptAt, d.LastError = Delivered, &now, nil, ""
		log.Info("webhook delivered", "status", o.status, "duration", o.duration)
	case d.Attempts >= s.opts.MaxAttempts:
		d.Status, d.NextAttemptAt = Failed, nil
		if a.Error == "" {
			d.LastError = "HTTP " + strconv.Itoa(o.status)
		}
		log.Warn("webhook delivery failed for good", "status", o.status, "err", o.err)
	default:
		next := s.clock().Add(s.backoff(d.Attempts, o.retryAfter))
		d.NextAttemptAt = &next
		if a.Error == "" {
			d.LastError = "HTTP " + strconv.Itoa(o.status)
		}
		log.Info("webhook attempt failed; will retry", "status", o.status, "err", o.err, "next", next)
	}
	held, err := s.settle(rctx, d, c.claim, a)
	switch {
	case err != nil:
		log.Error("record webhook attempt", "err", err)
	case !held:
		log.Warn("webhook delivery's lease lapsed during the attempt; its outcome is logged but another worker has it")
	}
}

// settle records an attempt (if any) and the delivery's new state in one transaction.
func (s *Service) settle(ctx context.Context, d Delivery, claim string, a *Attempt) (bool, error) {
	var held bool
	err := s.store.Update(ctx, func(tx Tx) error {
		if a != nil {
			if err := tx.LogAttempt(ctx, a); err != nil {
				return err
			}
		}
		var err error
		held, err = tx.SettleDelivery(ctx, d, claim)
		return err
	})
	return held, err
}

// backoff is the wait after the attempt-th failed attempt: BackoffBase doubled for each
// earlier failure, at most BackoffMax, varied by ±20%; at least what Retry-After asked
// for, up to BackoffMax.
func (s *Service) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := float64(s.opts.BackoffBase) * math.Pow(2, float64(max(attempt-1, 0)))
	d = min(d, float64(s.opts.BackoffMax))
	d *= 0.8 + 0.4*fraction(s.random)
	out := time.Duration(d)
	if retryAfter > out {
		out = min(retryAfter, s.opts.BackoffMax)
	}
	return out
}

// send makes one attempt: POST the payload, signed at at.
func (s *Service) send(ctx context.Context, c claimed, at time.Time) outcome {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	start := time.Now() // a measurement, not a decision: the real clock
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return outcome{err: fmt.Errorf("request: %w", err)}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", s.opts.UserAgent)
	h.Set(HeaderDelivery, c.ID)
	h.Set(HeaderEvent, c.Type)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, Sign(at, c.Payload, c.endpoint.secrets(at)...))
	resp, err := s.client.Do(req)
	if err != nil {
		return outcome{err: describe(err), duration: time.Since(start)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxResponseBytes))
	o := outcome{status: resp.StatusCode, response: excerpt(body), duration: time.Since(start),
		retryAfter: retryAfter(resp.Header.Get("Retry-After"), at)}
	if err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The answer was a success whatever became of its body.
		err = nil
	}
	if err != nil {
		o.err = fmt.Errorf("read response: %w", err)
	}
	return o
}

// describe says what kind of failure an error from http.Client.Do is, without the URL,
// which may itself be a secret (many services put a token in their hook URLs).
func describe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	if errors.Is(err, ErrAddressRefused) {
		return fmt.Errorf("refused: %w", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

// excerpt is the start of a response body for the log, as text both databases store:
// valid UTF-8 without NUL.
func excerpt(body []byte) string {
	if len(body) > MaxLoggedResponse {
		body = body[:MaxLoggedResponse]
	}
	return loggable(string(body))
}

// loggable is s as valid UTF-8 without NUL, which PostgreSQL's text refuses.
func loggable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
