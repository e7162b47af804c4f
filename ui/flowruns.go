package ui

import (
	"net/http"
	"strconv"
)

// A contact's flow runs in the thread's details column: what flow, at
// which step, waiting for what, and a button to stop one.

// handleStopRun ends the contact's run of one flow, as an agent asked from
// the thread; the details column then shows the runs left.
func (p *Panel) handleStopRun(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	flowID, err := strconv.ParseInt(r.PostFormValue("flow_id"), 10, 64)
	if err != nil || flowID <= 0 {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("error.bad_request"))
		return
	}
	conv, err := p.Store.ConversationByID(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	if _, err := p.Flows.Stop(r.Context(), conv.ContactID, flowID); err != nil {
		p.internal(w, r, err)
		return
	}
	done(w)
}
