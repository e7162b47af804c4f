package campaigns

import (
	"context"
	"errors"
	"strconv"
	"time"

	"sendbox/inbox"
	"sendbox/store"
)

// Replies is the router's answerer for replies to campaigns whose replies
// go to a flow (settings.reply_routing "flow"): a customer message within
// 72 hours of such a campaign's message, that no flow took before, starts
// the campaign's reply flow. Replies to other campaigns go the usual way
// (the assistant, then people: the inbox).
func (s *Service) Replies() inbox.Answerer { return replies{s} }

type replies struct{ s *Service }

func (r replies) Name() string { return store.RouteFlow }

// flowFor is the reply flow of the campaign m answers, or 0.
func (r replies) flowFor(ctx context.Context, conv *store.Conversation, m *store.Message) (int64, string, error) {
	if m.Direction != store.Inbound {
		return 0, "", nil
	}
	id, err := r.s.Store.RecentCampaignReply(ctx, conv.ContactID, time.Now())
	if err != nil || id == 0 {
		return 0, "", err
	}
	sc, err := r.s.Store.CampaignByID(ctx, id)
	if err != nil {
		return 0, "", err
	}
	c, err := decode(sc)
	if err != nil || c.SettingsDef.ReplyRouting != "flow" {
		return 0, "", err
	}
	return c.SettingsDef.ReplyFlowID, c.Name, nil
}

func (r replies) Wants(ctx context.Context, conv *store.Conversation, m *store.Message) (inbox.Verdict, error) {
	flow, name, err := r.flowFor(ctx, conv, m)
	if err != nil || flow == 0 {
		return inbox.Verdict{}, err
	}
	return inbox.Verdict{Taken: true, Reason: inbox.ReasonFlowTriggered, Detail: "a reply to the campaign " + name}, nil
}

func (r replies) Answer(ctx context.Context, conv *store.Conversation, m *store.Message) error {
	flow, _, err := r.flowFor(ctx, conv, m)
	if err != nil || flow == 0 {
		return err
	}
	_, err = r.s.Flows.StartFor(ctx, flow, conv.ContactID, "msg:"+strconv.FormatInt(m.ID, 10), nil, func(*store.RunTx) error { return nil })
	if errors.Is(err, store.ErrRunActive) || errors.Is(err, store.ErrRunOnce) {
		return nil
	}
	return err
}
