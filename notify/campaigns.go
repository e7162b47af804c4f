package notify

import (
	"context"
	"fmt"
	"log/slog"

	"sendbox/store"
)

// CampaignPaused returns what tells the owners that a campaign paused by
// itself (Meta paused or disabled its template): an e-mail to each active
// owner with an address, through m. Without a mailer it only logs.
func CampaignPaused(m *Mailer, st *store.Store, baseURL string, log *slog.Logger) func(ctx context.Context, c *store.Campaign, reason string) {
	return func(ctx context.Context, c *store.Campaign, reason string) {
		if m == nil {
			return
		}
		users, err := st.ListUsers(ctx)
		if err != nil {
			log.Error("campaign paused: list the owners to tell", slog.Any("err", err))
			return
		}
		for _, u := range users {
			if u.Role != "owner" || !u.Active() || u.Email == "" {
				continue
			}
			msg := Message{To: u.Email, Subject: fmt.Sprintf("Campaign paused: %s", c.Name),
				Body: fmt.Sprintf("The campaign %q paused by itself: %s.\n\nRecipients not yet sent wait; resume it once the template is approved again, or cancel it:\n%s/campaigns/%d\n",
					c.Name, reason, baseURL, c.ID)}
			if err := m.Send(ctx, msg); err != nil {
				log.Warn("campaign paused: e-mail to an owner failed", slog.Int64("user", u.ID), slog.Any("err", err))
			}
		}
	}
}
