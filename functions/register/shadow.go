package function

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
)

// judgeShadow handles the shadow schedule's cron event (check=shadow):
// it judges the challenger on its shadow traffic with outcomes, and replies
// "model promoted" when it replaced the champion.
func (f *Function) judgeShadow(ctx context.Context, e event.Event) (*event.Event, error) {
	if v, ok := e.Extensions()["check"]; !ok || fmt.Sprint(v) != "shadow" {
		return nil, cehttp.NewResult(http.StatusBadRequest, "register: a cron event must ask for check=shadow, not %v", v)
	}
	log := f.log.With("event_id", e.ID())
	d, err := f.gate.JudgeShadow(context.WithoutCancel(ctx), f.minShadow)
	if errors.Is(err, promotion.ErrNoShadow) {
		log.Info("no challenger in shadow to judge")
		return nil, nil
	}
	if err != nil {
		log.Error("shadow judgement failed", "error", err.Error())
		return nil, cehttp.NewResult(http.StatusServiceUnavailable, "register: %v", err)
	}
	log.Info("judged the challenger on shadow traffic", "challenger", d.Challenger, "champion", d.Champion, "labelled", d.LabelledRows, "promoted", d.Promoted, "reason", d.Reason)
	if !d.Promoted {
		return nil, nil
	}
	reply, err := events.New(fmt.Sprintf("shadow-%s-v%d", model.Name, d.Challenger), events.ModelPromoted, events.SourceRegister, fmt.Sprintf("%s/v%d", model.Name, d.Challenger), shadowData(f.gate.Registry, d))
	if err != nil {
		return nil, cehttp.NewResult(http.StatusInternalServerError, "register: %v", err)
	}
	f.Sign(&reply)
	return &reply, nil
}
