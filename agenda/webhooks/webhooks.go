// Package webhooks sends a council's public meeting events to the URLs its clerks
// configure: signed JSON POSTs, retried with backoff, with a log of every attempt.
//
// # Endpoints
//
// An Endpoint is a URL of a council, the event types it subscribes to (DefaultEventTypes
// unless it says otherwise; EventTypes lists them all) and a signing secret that Chamber
// makes and shows once, when the endpoint is created and when the secret is rotated. The
// URL must be https; http is allowed only for localhost, 127.0.0.1 and [::1], for
// development. Whatever the URL says, a delivery is never sent to a loopback, private,
// link-local (cloud metadata), multicast or otherwise non-public address, checked on the
// address actually dialled, after DNS, unless Options.AllowNetworks lets that network
// through. Redirects are not followed. Clerks of the council and admins manage endpoints
// through Service.
//
// # The outbox
//
// Every meeting has an append-only journal (see package agenda). The dispatcher keeps a
// cursor per meeting, the last sequence number it has dealt with, in the database. It
// looks for published meetings whose journal has moved past their cursor, reads the new
// events in order and, in one transaction, creates a delivery for each event and each
// active endpoint of the meeting's council that subscribes to the event's type, and
// advances the cursor. A crash loses nothing: either the deliveries and the cursor's
// advance committed together, or neither did and the events are read again.
//
// Service.Run runs the dispatcher and the delivery worker until its context ends. They
// poll every Options.PollInterval; Kick wakes them at once, and Publish and PublishVote
// call it, so that the process can add the Service to the publishers of the agenda, the
// minutes and the votes and have events go out as soon as they commit.
//
// Webhooks carry what the public may see, and nothing else. Private events (exempt
// business) are never delivered; an event's data is rebuilt field by field into its
// public form (an item without the clerk's notes, a session change without the reason,
// a vote's result without the names of those who voted unless it was a recorded vote);
// and the journal of an unpublished meeting is held back until the meeting is
// published, when what the public may then read goes out.
//
// # Delivery
//
// A worker claims due deliveries for a lease (Options.Lease), POSTs each, and records
// the attempt: status code, duration, error and the start of the response. A 2xx answer
// delivers it; anything else, a timeout or a refused address is retried after an
// exponential backoff with jitter (Options.BackoffBase doubling up to
// Options.BackoffMax; by default about 24 hours over 12 attempts), a Retry-After header
// being honoured up to BackoffMax, until Options.MaxAttempts, when the delivery fails.
// A clerk may redeliver any delivery. Several nodes may run workers on one PostgreSQL
// database: claims take rows with FOR UPDATE SKIP LOCKED, so no two workers hold the
// same delivery; on SQLite there is one writer. A worker that dies holding a delivery
// loses its lease, and the delivery is due again when the lease runs out.
//
// Delivery is at least once: a receiver may see a delivery again (after a crash between
// its answer and the record of it, or when a clerk redelivers it) and should ignore a
// delivery id it has already processed, recording an id as processed only once it has
// been (a redelivery keeps its id). Deliveries are not ordered: use the meeting and
// sequence number to order events of one meeting.
//
// # The request
//
//	POST <endpoint URL>
//	Content-Type: application/json
//	User-Agent: Chamber-Webhooks/1
//	Chamber-Delivery: dlv_01JZ3F6KQ8V4X9T2M5N7R0P1AB
//	Chamber-Event: meeting.started
//	Chamber-Timestamp: 1778088600
//	Chamber-Signature: t=1778088600,v1=5257a869e7ec…
//
//	{"id":"dlv_01JZ3F6KQ8V4X9T2M5N7R0P1AB","type":"meeting.started","council_id":1,
//	 "meeting_id":7,"seq":12,"at":"2026-05-06T17:30:02Z","data":{…}}
//
// The body is a Payload. Its id is the delivery's id, the same in the header and on
// every attempt and redelivery of that delivery; type, meeting_id and seq name the
// journal event; data is the event's public data, whose form EventTypes describes.
//
// # Signatures
//
// Chamber-Signature is "t=" the timestamp, then for each secret in use ",v1=" and the
// lower-case hex HMAC-SHA256, keyed with the secret exactly as shown (whsec_ prefix and
// all), of the timestamp in decimal, a full stop, and the raw body:
//
//	v1 = hex(HMAC-SHA256(secret, "1778088600" + "." + body))
//
// The timestamp is also in Chamber-Timestamp; it is the time of the attempt, in Unix
// seconds. A receiver computes the HMAC over the bytes it received (before parsing
// them), compares it in constant time with each v1 value, accepts if any matches, and
// refuses a timestamp more than a few minutes from its own clock, which stops replays.
// While a rotated secret's grace period lasts, requests carry two v1 values, one per
// secret, so that the receiver can change secrets without losing deliveries. Verify
// does all this for Go receivers. The scheme is Stripe's.
package webhooks

import (
	"encoding/json"
	"time"
)

// Endpoint is a URL that receives a council's webhooks.
type Endpoint struct {
	ID          int64  `json:"id"`
	CouncilID   int64  `json:"council_id"`
	URL         string `json:"url"`
	Description string `json:"description"`
	// EventTypes are the event types the endpoint receives.
	EventTypes []string `json:"event_types"`
	// Active endpoints receive deliveries; an inactive one receives none, and
	// deactivating one cancels its pending deliveries.
	Active    bool      `json:"active"`
	CreatedBy int64     `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// PreviousSecretExpires is when the secret replaced by the last rotation stops
	// signing requests; nil when there is none.
	PreviousSecretExpires *time.Time `json:"previous_secret_expires_at,omitempty"`
	// Keys are the signing secrets; they never leave the server except once, in an
	// EndpointSecret.
	Keys SigningKeys `json:"-"`
}

// SigningKeys are an endpoint's secrets: the current one, and the one the last rotation
// replaced, which signs too until PreviousSecretExpires.
type SigningKeys struct {
	Current  string
	Previous string
}

// secrets returns the secrets that sign a request at now, the current one first.
func (e Endpoint) secrets(now time.Time) []string {
	out := []string{e.Keys.Current}
	if e.Keys.Previous != "" && e.PreviousSecretExpires != nil && now.Before(*e.PreviousSecretExpires) {
		out = append(out, e.Keys.Previous)
	}
	return out
}

// subscribes reports whether the endpoint receives events of type typ.
func (e Endpoint) subscribes(typ string) bool {
	for _, t := range e.EventTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// EndpointSecret is an endpoint with its signing secret, which is shown only here: in
// the answer to creating the endpoint or rotating its secret.
type EndpointSecret struct {
	Endpoint
	Secret string `json:"secret"`
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses: pending → delivered, or pending → failed after the last attempt
// (or when its endpoint is deactivated). Redelivery makes any delivery pending again.
const (
	Pending   DeliveryStatus = "pending"
	Delivered DeliveryStatus = "delivered"
	Failed    DeliveryStatus = "failed"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool { return s == Pending || s == Delivered || s == Failed }

// Delivery is one event for one endpoint.
type Delivery struct {
	ID         string `json:"id"`
	EndpointID int64  `json:"endpoint_id"`
	CouncilID  int64  `json:"council_id"`
	MeetingID  int64  `json:"meeting_id"`
	Seq        int64  `json:"seq"`
	Type       string `json:"type"`
	// Payload is the body sent, the same on every attempt.
	Payload json.RawMessage `json:"payload"`
	Status  DeliveryStatus  `json:"status"`
	// Attempts counts the attempts since the delivery was created or last redelivered.
	Attempts int `json:"attempts"`
	// NextAttemptAt is when a pending delivery is next due.
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastAttemptAt  *time.Time `json:"last_attempt_at,omitempty"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`

	// Claim is the token of the worker that holds the delivery, until LockedUntil.
	Claim       string     `json:"-"`
	LockedUntil *time.Time `json:"-"`
}

// Attempt is one try at sending a delivery, as the delivery log keeps it.
type Attempt struct {
	ID         int64     `json:"id"`
	DeliveryID string    `json:"delivery_id"`
	Number     int       `json:"number"`
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
	// StatusCode is the HTTP status of the answer; 0 when there was none.
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	// Response is the start of the answer's body, at most MaxLoggedResponse bytes.
	Response string `json:"response,omitempty"`
}

// DeliveryDetail is a delivery with its log, oldest attempt first.
type DeliveryDetail struct {
	Delivery
	Log []Attempt `json:"log"`
}

// Payload is the JSON body of every request.
type Payload struct {
	// ID is the delivery's id: receivers deduplicate on it.
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CouncilID int64           `json:"council_id"`
	MeetingID int64           `json:"meeting_id"`
	Seq       int64           `json:"seq"`
	At        time.Time       `json:"at"`
	Data      json.RawMessage `json:"data"`
}

// DeliveryQuery selects a page of an endpoint's deliveries, newest first.
type DeliveryQuery struct {
	Status DeliveryStatus
	// Cursor continues from the page that gave it.
	Cursor string
	Limit  int
}

// DeliveryFilter is a DeliveryQuery as the store reads it: After is the id after which
// (in descending order) the page continues.
type DeliveryFilter struct {
	EndpointID int64
	Status     DeliveryStatus
	After      string
	Limit      int
}

// JournalState is what the dispatcher needs to know about a meeting.
type JournalState struct {
	CouncilID int64
	Published bool
	LastSeq   int64
}
