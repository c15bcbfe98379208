package knative_test

import (
	"testing"

	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// TestCanaryOverlay renders overlays/canary (production with a canary of
// predict) and validates it as Knative would, then checks the traffic
// split: 90% to the named revision tagged stable, 10% to the latest
// revision tagged canary, and the new image on the latest.
func TestCanaryOverlay(t *testing.T) {
	objs := render(t, "canary")
	ctx := knativeContext(t, "production")
	var predict *servingv1.Service
	for _, o := range objs {
		kr, ok := o.Typed.(knativeResource)
		if !ok {
			continue
		}
		kr.SetDefaults(ctx)
		if errs := kr.Validate(ctx).Filter(apis.ErrorLevel); errs != nil {
			t.Errorf("%s: Knative rejects it: %v", o, errs)
		}
		if s, ok := o.Typed.(*servingv1.Service); ok && o.Name == "predict" {
			predict = s
		}
	}
	if predict == nil {
		t.Fatal("no predict Service in the canary overlay")
	}
	tr := predict.Spec.Traffic
	if len(tr) != 2 {
		t.Fatalf("predict's traffic has %d targets, want stable and canary: %+v", len(tr), tr)
	}
	stable, canary := tr[0], tr[1]
	if stable.Tag != "stable" || stable.RevisionName == "" || stable.LatestRevision == nil || *stable.LatestRevision || stable.Percent == nil || *stable.Percent != 90 {
		t.Errorf("stable target %+v: want tag stable, a named revision, 90%%", stable)
	}
	if canary.Tag != "canary" || canary.LatestRevision == nil || !*canary.LatestRevision || canary.Percent == nil || *canary.Percent != 10 {
		t.Errorf("canary target %+v: want tag canary, the latest revision, 10%%", canary)
	}
	if img := predict.Spec.Template.Spec.Containers[0].Image; img != "registry.example.com/claimrisk/predict:v0.2.0" {
		t.Errorf("the canary revision runs %s, want the image under test", img)
	}
}
