package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/webhooks"
)

// Webhooks over HTTP: a council's clerks manage the URLs that receive its public meeting
// events and read the log of deliveries. The handlers translate between HTTP and
// webhooks.Service, which decides who may do what.

// RotateSecretRequest rotates a webhook's signing secret. GraceSeconds is how long the
// old secret goes on signing requests beside the new one: a day when left out, 0 to
// stop it at once, at most seven days.
type RotateSecretRequest struct {
	GraceSeconds *int64 `json:"grace_seconds,omitempty"`
}

var deliveryQuery = []Param{
	{Name: "status", Type: "string", Enum: []string{"pending", "delivered", "failed"}, Description: "Only deliveries in this state."},
	{Name: "limit", Type: "integer", Description: "Page size, 1–200 (default 50)."},
	{Name: "cursor", Type: "string", Description: "The next member of the previous page."},
}

// webhookRoutes are the routes of webhook management.
func (s *Server) webhookRoutes() []Route {
	const (
		hook     = "/api/v1/webhooks/{webhook}"
		delivery = hook + "/deliveries/{delivery}"
	)
	return []Route{
		op(get, "/api/v1/webhook-event-types", Public, s.webhookEventTypes).doc("listWebhookEventTypes", "webhooks",
			"The event types webhooks deliver, with the form of each one's data and whether new webhooks receive it by default"),
		op(get, "/api/v1/councils/{council}/webhooks", SignedIn, s.listWebhooks).doc("listWebhooks", "webhooks",
			"List a council's webhooks, never their secrets (clerks)"),
		jsonOp(post, "/api/v1/councils/{council}/webhooks", SignedIn, s.createWebhook).doc("createWebhook", "webhooks",
			"Add a webhook to a council; its signing secret is shown only in this answer (clerks)").status(http.StatusCreated),
		op(get, hook, SignedIn, s.getWebhook).doc("getWebhook", "webhooks", "Get a webhook (clerks of its council)"),
		jsonOp(patch, hook, SignedIn, s.updateWebhook).doc("updateWebhook", "webhooks",
			"Change a webhook's URL, description, event types or active flag; deactivating it fails its pending deliveries (clerks)"),
		op(del, hook, SignedIn, s.deleteWebhook).doc("deleteWebhook", "webhooks", "Delete a webhook with its deliveries and their log (clerks)"),
		jsonOp(post, hook+"/rotate-secret", SignedIn, s.rotateWebhookSecret).doc("rotateWebhookSecret", "webhooks",
			"Give a webhook a new signing secret, shown only in this answer; the old one signs too for the grace period (clerks)"),
		op(get, hook+"/deliveries", SignedIn, s.listWebhookDeliveries).doc("listWebhookDeliveries", "webhooks",
			"A webhook's deliveries, newest first, a page at a time (clerks)").query(deliveryQuery...),
		op(get, delivery, SignedIn, s.getWebhookDelivery).doc("getWebhookDelivery", "webhooks",
			"A delivery with the log of its attempts (clerks)"),
		op(post, delivery+"/redeliver", SignedIn, s.redeliverWebhook).doc("redeliverWebhook", "webhooks",
			"Send a delivery again now, keeping its id; the webhook must be active (clerks)").status(http.StatusAccepted),
	}
}

func (s *Server) webhookEventTypes(*call) ([]webhooks.EventType, error) {
	return webhooks.EventTypes(), nil
}

// council reads the council the path names, which must exist.
func (s *Server) council(c *call) (int64, error) {
	id, err := c.id("council")
	if err != nil {
		return 0, err
	}
	if _, err := s.svc.GetCouncil(c.r.Context(), id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) listWebhooks(c *call) ([]webhooks.Endpoint, error) {
	id, err := s.council(c)
	if err != nil {
		return nil, err
	}
	out, err := s.hooks.ListEndpoints(c.r.Context(), c.actor, id)
	return nonNil(out), err
}

func (s *Server) createWebhook(c *call, in webhooks.EndpointInput) (webhooks.EndpointSecret, error) {
	id, err := s.council(c)
	if err != nil {
		return webhooks.EndpointSecret{}, err
	}
	return s.hooks.CreateEndpoint(c.r.Context(), c.actor, id, in)
}

func (s *Server) getWebhook(c *call) (webhooks.Endpoint, error) {
	id, err := c.id("webhook")
	if err != nil {
		return webhooks.Endpoint{}, err
	}
	return s.hooks.GetEndpoint(c.r.Context(), c.actor, id)
}

func (s *Server) updateWebhook(c *call, in webhooks.EndpointPatch) (webhooks.Endpoint, error) {
	id, err := c.id("webhook")
	if err != nil {
		return webhooks.Endpoint{}, err
	}
	return s.hooks.UpdateEndpoint(c.r.Context(), c.actor, id, in)
}

func (s *Server) deleteWebhook(c *call) (noContent, error) {
	id, err := c.id("webhook")
	if err != nil {
		return noContent{}, err
	}
	return noContent{}, s.hooks.DeleteEndpoint(c.r.Context(), c.actor, id)
}

func (s *Server) rotateWebhookSecret(c *call, in RotateSecretRequest) (webhooks.EndpointSecret, error) {
	id, err := c.id("webhook")
	if err != nil {
		return webhooks.EndpointSecret{}, err
	}
	grace := webhooks.DefaultGrace
	if in.GraceSeconds != nil {
		g := *in.GraceSeconds
		if g < 0 || g > int64(webhooks.MaxGrace/time.Second) {
			return webhooks.EndpointSecret{}, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "grace_seconds",
				Message: "must be between 0 and 604800 (seven days)"}}}
		}
		grace = time.Duration(g) * time.Second
	}
	return s.hooks.RotateSecret(c.r.Context(), c.actor, id, grace)
}

func (s *Server) listWebhookDeliveries(c *call) (agenda.Page[webhooks.Delivery], error) {
	id, err := c.id("webhook")
	if err != nil {
		return agenda.Page[webhooks.Delivery]{}, err
	}
	q := query{c: c}
	dq := webhooks.DeliveryQuery{
		Status: webhooks.DeliveryStatus(c.r.URL.Query().Get("status")),
		Cursor: c.r.URL.Query().Get("cursor"),
		Limit:  q.limit(agenda.MaxPageSize),
	}
	if dq.Status != "" && !dq.Status.Valid() {
		q.errs = append(q.errs, agenda.FieldError{Field: "status", Message: "must be pending, delivered or failed"})
	}
	if dq.Cursor != "" && (!strings.HasPrefix(dq.Cursor, "dlv_") || len(dq.Cursor) != 30) {
		q.errs = append(q.errs, agenda.FieldError{Field: "cursor", Message: "is not a cursor this server gave"})
	}
	if err := q.err(); err != nil {
		return agenda.Page[webhooks.Delivery]{}, err
	}
	return s.hooks.ListDeliveries(c.r.Context(), c.actor, id, dq)
}

// deliveryPath reads the webhook and delivery ids of the path.
func (c *call) deliveryPath() (int64, string, error) {
	id, err := c.id("webhook")
	if err != nil {
		return 0, "", err
	}
	d := c.r.PathValue("delivery")
	if !strings.HasPrefix(d, "dlv_") || len(d) != 30 {
		return 0, "", &httpError{kind: probNotFound, detail: "That is not a delivery id."}
	}
	return id, d, nil
}

func (s *Server) getWebhookDelivery(c *call) (webhooks.DeliveryDetail, error) {
	id, d, err := c.deliveryPath()
	if err != nil {
		return webhooks.DeliveryDetail{}, err
	}
	return s.hooks.GetDelivery(c.r.Context(), c.actor, id, d)
}

func (s *Server) redeliverWebhook(c *call) (webhooks.Delivery, error) {
	id, d, err := c.deliveryPath()
	if err != nil {
		return webhooks.Delivery{}, err
	}
	return s.hooks.Redeliver(c.r.Context(), c.actor, id, d)
}
