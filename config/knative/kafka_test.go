package knative_test

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// TestKafkaBrokerOption checks the durable Broker option: overlays/
// production-kafka is production with one change, a Broker of class Kafka
// whose config names a rendered ConfigMap holding what the Kafka Broker
// needs. Knative's own defaulting and validation of the Broker run in
// TestOverlaysValidate, and TestPolicy holds it to production's rules.
func TestKafkaBrokerOption(t *testing.T) {
	kafka := render(t, "production-kafka")
	prod := render(t, "production")
	broker := names[eventingv1.Broker](kafka)["claimrisk"]
	if broker == nil {
		t.Fatal("no Broker claimrisk in overlays/production-kafka")
	}
	if class := broker.Annotations[eventingv1.BrokerClassAnnotationKey]; class != "Kafka" {
		t.Errorf("Broker class %q; want Kafka", class)
	}
	ref := broker.Spec.Config
	if ref == nil || ref.Kind != "ConfigMap" || ref.APIVersion != "v1" {
		t.Fatalf("Broker spec.config = %+v; want a v1 ConfigMap", ref)
	}
	cm := names[corev1.ConfigMap](kafka)[ref.Name]
	if cm == nil || cm.Namespace != ref.Namespace {
		t.Fatalf("spec.config names ConfigMap %s/%s, which the overlay does not render", ref.Namespace, ref.Name)
	}
	if cm.Data["bootstrap.servers"] == "" {
		t.Errorf("ConfigMap %s: no bootstrap.servers", cm.Name)
	}
	for _, k := range []string{"default.topic.partitions", "default.topic.replication.factor"} {
		if n, err := strconv.Atoi(cm.Data[k]); err != nil || n < 1 {
			t.Errorf("ConfigMap %s: %s = %q; want a whole number of at least 1", cm.Name, k, cm.Data[k])
		}
	}
	// Everything else is production as it is: same objects, same specs.
	prodBroker := names[eventingv1.Broker](prod)["claimrisk"]
	if d := cmp.Diff(prodBroker.Spec.Delivery, broker.Spec.Delivery); d != "" {
		t.Errorf("the Kafka Broker's delivery differs from production's (-production +kafka):\n%s", d)
	}
	byKey := map[string]string{}
	for _, o := range prod {
		byKey[o.String()] = string(o.JSON)
	}
	extra := 0
	for _, o := range kafka {
		p, ok := byKey[o.String()]
		switch {
		case !ok:
			extra++
			if o.String() != "ConfigMap/"+ref.Name {
				t.Errorf("%s is in production-kafka only", o)
			}
		case o.Kind != "Broker" && p != string(o.JSON):
			t.Errorf("%s differs from production's", o)
		}
	}
	if extra != 1 || len(kafka) != len(prod)+1 {
		t.Errorf("production-kafka renders %d objects, production %d; want the Kafka Broker's ConfigMap more", len(kafka), len(prod))
	}
}
