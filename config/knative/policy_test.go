package knative_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/claimrisk/claimrisk/config/knative"
	driftfn "github.com/claimrisk/claimrisk/functions/drift"
	trainfn "github.com/claimrisk/claimrisk/functions/train"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// ownTimeouts are the request timeouts of the functions that have a
// RequestTimeout of their own (their servers' timeouts match it); every
// other function's Service gives a request defaultTimeout.
var ownTimeouts = map[string]time.Duration{
	"train": trainfn.RequestTimeout,
	"drift": driftfn.RequestTimeout,
}

const defaultTimeout = 30 * time.Second

// wantTimeout is the request timeout of the Service of function name.
func wantTimeout(name string) time.Duration {
	if d, ok := ownTimeouts[name]; ok {
		return d
	}
	return defaultTimeout
}

// TestEveryFunctionHasAService: the base has one Knative Service per
// function of shared/fnspec, in base/NAME.yaml, labelled as a function and
// running the image containers/images.sh builds for it; and every Knative
// Service it renders is such a function.
func TestEveryFunctionHasAService(t *testing.T) {
	services := knativeServices(render(t, "base"))
	for _, f := range fnspec.All() {
		if _, err := fs.Stat(knative.Base, path.Join("base", f.Name+".yaml")); err != nil {
			t.Errorf("function %s: no Service manifest config/knative/base/%s.yaml", f.Name, f.Name)
		}
		svc := services[f.Name]
		if svc == nil {
			t.Errorf("function %s: the base renders no Knative Service %s; list %s.yaml in config/knative/base/kustomization.yaml", f.Name, f.Name, f.Name)
			continue
		}
		if got := svc.Labels["app.kubernetes.io/component"]; got != "function" {
			t.Errorf("Service %s: label app.kubernetes.io/component = %q, want function (the overlays patch functions by it)", f.Name, got)
		}
		for _, c := range svc.Spec.Template.Spec.Containers {
			if ref, _, _ := strings.Cut(c.Image, "@"); !strings.HasPrefix(ref, f.Image()+":") {
				t.Errorf("Service %s: image %s, want %s:TAG, the name containers/images.sh builds", f.Name, c.Image, f.Image())
			}
		}
	}
	for name := range services {
		if _, ok := fnspec.Lookup(name); !ok {
			t.Errorf("the base renders the Knative Service %s, which is not a function of shared/fnspec", name)
		}
	}
}

// TestPolicy holds the rules every overlay must keep: hardened containers,
// pinned images, private functions, scale to zero, timeouts, and routes
// for every event the functions emit.
func TestPolicy(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			t.Run("containers", func(t *testing.T) { checkContainers(t, objs) })
			t.Run("images", func(t *testing.T) { checkImages(t, objs) })
			t.Run("functions", func(t *testing.T) { checkFunctions(t, overlay, objs) })
			t.Run("routes", func(t *testing.T) { checkRoutes(t, objs) })
		})
	}
}

// checkMemoryLimit requires a Go collector's soft limit (GOMEMLIMIT) to
// leave a fifth of the container's memory limit or more for what the Go
// runtime does not count and for the collector to catch up: a soft limit
// at or above the hard one lets the heap grow into an out-of-memory kill.
func checkMemoryLimit(t *testing.T, where string, c corev1.Container) {
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		soft, err := goMemLimit(e.Value)
		if err != nil {
			t.Errorf("%s: GOMEMLIMIT %q: %v", where, e.Value, err)
			continue
		}
		hard, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			t.Errorf("%s: GOMEMLIMIT set without a memory limit", where)
			continue
		}
		if float64(soft) > 0.8*float64(hard.Value()) {
			t.Errorf("%s: GOMEMLIMIT %s is more than 80%% of the memory limit %s", where, e.Value, hard.String())
		}
	}
}

// goMemLimit parses GOMEMLIMIT's format: a number of bytes with an
// optional B, KiB, MiB, GiB or TiB suffix.
func goMemLimit(v string) (int64, error) {
	for i, unit := range []string{"TiB", "GiB", "MiB", "KiB", "B"} {
		if n, ok := strings.CutSuffix(v, unit); ok {
			x, err := strconv.ParseInt(n, 10, 64)
			return x << (10 * (4 - i)), err
		}
	}
	return strconv.ParseInt(v, 10, 64)
}

func checkContainers(t *testing.T, objs []object) {
	for _, pt := range podTemplates(objs) {
		pod := pt.Spec.SecurityContext
		if pod == nil {
			pod = &corev1.PodSecurityContext{}
		}
		for _, c := range pt.Spec.Containers {
			where := pt.Owner + " container " + c.Name
			if !pt.Job && (c.ReadinessProbe == nil || c.LivenessProbe == nil) {
				t.Errorf("%s: needs a readiness and a liveness probe", where)
			}
			checkMemoryLimit(t, where, c)
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Limits[r]; !ok {
					t.Errorf("%s: no %s limit", where, r)
				}
				if _, ok := c.Resources.Requests[r]; !ok {
					t.Errorf("%s: no %s request", where, r)
				}
			}
			sc := c.SecurityContext
			if sc == nil {
				sc = &corev1.SecurityContext{}
			}
			nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot)
			if !nonRoot {
				t.Errorf("%s: runAsNonRoot is not true", where)
			}
			uid := sc.RunAsUser
			if uid == nil {
				uid = pod.RunAsUser
			}
			if uid == nil || *uid == 0 {
				t.Errorf("%s: runAsUser must name a non-zero user, got %v", where, uid)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: readOnlyRootFilesystem is not true", where)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation is not false", where)
			}
			if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
				t.Errorf("%s: capabilities must drop ALL", where)
			}
			seccomp := sc.SeccompProfile
			if seccomp == nil {
				seccomp = pod.SeccompProfile
			}
			if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s: seccompProfile is not RuntimeDefault", where)
			}
		}
	}
}

// imageTag splits an image reference into its tag and digest.
func imageTag(ref string) (tag, digest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		tag = ref[i+1:]
	}
	return tag, digest
}

func checkImages(t *testing.T, objs []object) {
	for _, pt := range podTemplates(objs) {
		for _, c := range pt.Spec.Containers {
			tag, digest := imageTag(c.Image)
			switch {
			case tag == "" && digest == "":
				t.Errorf("%s container %s: image %s has no tag", pt.Owner, c.Name, c.Image)
			case tag == "latest":
				t.Errorf("%s container %s: image %s uses latest; pin a version", pt.Owner, c.Name, c.Image)
			}
		}
	}
}

func knativeServices(objs []object) map[string]*servingv1.Service {
	return names[servingv1.Service](objs)
}

func checkFunctions(t *testing.T, overlay string, objs []object) {
	services := knativeServices(objs)
	for _, name := range fnspec.Names() {
		svc := services[name]
		if svc == nil {
			t.Errorf("no Knative Service %s", name)
			continue
		}
		local := svc.Labels["networking.knative.dev/visibility"] == "cluster-local"
		if wantLocal := name != "predict"; local != wantLocal {
			t.Errorf("Service %s: cluster-local = %v, want %v (only predict is public)", name, local, wantLocal)
		}
		tpl := svc.Spec.Template
		if tpl.Spec.TimeoutSeconds == nil {
			t.Errorf("Service %s: no timeoutSeconds", name)
		} else if got, want := time.Duration(*tpl.Spec.TimeoutSeconds)*time.Second, wantTimeout(name); got != want {
			t.Errorf("Service %s: timeoutSeconds = %v, want %v", name, got, want)
		}
		if tpl.Spec.ContainerConcurrency == nil {
			t.Errorf("Service %s: containerConcurrency is not set", name)
		}
		ann := tpl.Annotations
		if ann["autoscaling.knative.dev/target"] == "" {
			t.Errorf("Service %s: no autoscaling target", name)
		}
		min, err := strconv.Atoi(ann["autoscaling.knative.dev/min-scale"])
		if err != nil {
			t.Errorf("Service %s: min-scale %q: %v", name, ann["autoscaling.knative.dev/min-scale"], err)
		}
		switch {
		case name != "predict" && min != 0:
			t.Errorf("Service %s: min-scale = %d, want 0 (scale to zero)", name, min)
		case name == "predict" && overlay == "local" && min != 0:
			t.Errorf("Service predict: min-scale = %d in the local overlay, want 0", min)
		case name == "predict" && production(overlay) && min < 1:
			t.Errorf("Service predict: min-scale = %d in production, want at least 1", min)
		}
		if len(tpl.Spec.Containers) != 1 {
			t.Errorf("Service %s: %d containers, want 1", name, len(tpl.Spec.Containers))
			continue
		}
		c := tpl.Spec.Containers[0]
		if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health/readiness" {
			t.Errorf("Service %s: the readiness probe must GET /health/readiness", name)
		}
		if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health/liveness" {
			t.Errorf("Service %s: the liveness probe must GET /health/liveness", name)
		}
		for _, e := range c.Env {
			switch e.Name {
			case "PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION":
				t.Errorf("Service %s sets %s, which Knative reserves", name, e.Name)
			}
		}
		// Secrets a function must not start without: events are signed
		// everywhere, and predict's API is never open.
		required := []string{"claimrisk-event-key"}
		if name == "predict" {
			required = append(required, "claimrisk-api-token")
			if !hasEnv(c, "CLAIMRISK_REQUIRE_API_TOKEN", "true") {
				t.Errorf("Service predict: CLAIMRISK_REQUIRE_API_TOKEN must be \"true\", so predict refuses to start without a token")
			}
		}
		for _, secret := range required {
			if !requiresSecret(c, secret) {
				t.Errorf("Service %s: envFrom must name the Secret %s without optional: true", name, secret)
			}
		}
	}
	// Dead letters go to the drift function, which writes them to the
	// bucket (claimrisk deadletter list): a pod restart loses none.
	for name, b := range names[eventingv1.Broker](objs) {
		if d := b.Spec.Delivery; d == nil || d.DeadLetterSink == nil || d.DeadLetterSink.Ref == nil || d.DeadLetterSink.Ref.Name != "drift" {
			t.Errorf("Broker %s: the dead-letter sink must be the drift function", name)
		}
	}
	for name, tr := range names[eventingv1.Trigger](objs) {
		if d := tr.Spec.Delivery; d == nil || d.DeadLetterSink == nil || d.DeadLetterSink.Ref == nil || d.DeadLetterSink.Ref.Name != "drift" {
			t.Errorf("Trigger %s: the dead-letter sink must be the drift function", name)
		}
	}
}

// emittedTypes parses shared/events for the string constants naming event
// types, so that a type added there needs a route (or a place in unrouted).
func emittedTypes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "shared", "events", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(s, "dev.claimrisk.") && !strings.ContainsAny(s, " /") {
				out = append(out, s)
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("found no dev.claimrisk.* event types in shared/events")
	}
	return out
}

// matches reports whether an event with attrs passes a Trigger's filter.
func matches(tr *eventingv1.Trigger, attrs map[string]string) bool {
	if tr.Spec.Filter == nil {
		return true
	}
	for k, v := range tr.Spec.Filter.Attributes {
		if attrs[k] != v {
			return false
		}
	}
	return true
}

func checkRoutes(t *testing.T, objs []object) {
	triggers := names[eventingv1.Trigger](objs)
	brokers := names[eventingv1.Broker](objs)
	services := knativeServices(objs)
	pings := names[sourcesv1.PingSource](objs)
	deploy, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatalf("the event catalogue: %v", err)
	}
	// The catalogue of shared/events says who consumes each event type;
	// the Triggers must say the same. An entry without consumers is
	// unrouted on purpose and must be documented in docs/deploy.md.
	catalogued := map[string]bool{}
	for _, e := range events.Catalogue {
		catalogued[e.Type] = true
		var want []string
		for _, s := range e.Consumers {
			c, err := events.ParseConsumer(s)
			if err != nil {
				t.Errorf("catalogue: %s: %v", e.Type, err)
				continue
			}
			attrs := map[string]string{"type": e.Type}
			if c.Attr != "" {
				attrs[c.Attr] = c.Value
			}
			want = append(want, c.Service+" "+fmtFilter(attrs))
		}
		var got []string
		for _, tr := range triggers {
			if tr.Spec.Filter.Attributes["type"] == e.Type && tr.Spec.Subscriber.Ref != nil {
				got = append(got, tr.Spec.Subscriber.Ref.Name+" "+fmtFilter(tr.Spec.Filter.Attributes))
			}
		}
		if !sameSet(got, want) {
			t.Errorf("%s: the Triggers route it to %v, the catalogue in shared/events names %v", e.Type, got, want)
		}
		if len(want) == 0 && !strings.Contains(string(deploy), e.Type) {
			t.Errorf("%s has no consumer on purpose; say so in docs/deploy.md's event catalogue", e.Type)
		}
	}
	for _, typ := range emittedTypes(t) {
		if !catalogued[typ] {
			t.Errorf("%s is declared in shared/events but missing from its Catalogue", typ)
		}
	}
	for name, ps := range pings {
		attrs := map[string]string{"type": sourcesv1.PingSourceEventType, "source": sourcesv1.PingSourceSource(ps.Namespace, ps.Name)}
		if ps.Spec.CloudEventOverrides != nil {
			for k, v := range ps.Spec.CloudEventOverrides.Extensions {
				attrs[k] = v
			}
		}
		n := 0
		for _, tr := range triggers {
			if matches(tr, attrs) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("PingSource %s: no Trigger matches its events %v", name, attrs)
		}
		if ref := ps.Spec.Sink.Ref; ref == nil || ref.Kind != "Broker" || brokers[ref.Name] == nil {
			t.Errorf("PingSource %s: the sink must be a rendered Broker", name)
		}
		var data map[string]any
		if ps.Spec.ContentType != "application/json" || json.Unmarshal([]byte(ps.Spec.Data), &data) != nil {
			t.Errorf("PingSource %s: want JSON data with contentType application/json", name)
		}
	}
	for name, b := range brokers {
		// The class is explicit: MTChannelBasedBroker, or Kafka with the
		// kafka-broker component (TestKafkaBrokerOption).
		if c := b.Annotations["eventing.knative.dev/broker.class"]; c != "MTChannelBasedBroker" && c != "Kafka" {
			t.Errorf("Broker %s: set the class (MTChannelBasedBroker, or Kafka) explicitly", name)
		}
	}
	for name, tr := range triggers {
		if brokers[tr.Spec.Broker] == nil {
			t.Errorf("Trigger %s: Broker %s is not rendered", name, tr.Spec.Broker)
		}
		if ref := tr.Spec.Subscriber.Ref; ref == nil || ref.Kind != "Service" || services[ref.Name] == nil {
			t.Errorf("Trigger %s: the subscriber must be a rendered Knative Service", name)
		}
		d := tr.Spec.Delivery
		if d == nil || d.Retry == nil || d.DeadLetterSink == nil || d.DeadLetterSink.Ref == nil || services[d.DeadLetterSink.Ref.Name] == nil {
			t.Errorf("Trigger %s: needs retries and a dead-letter sink that is a rendered Service", name)
		}
		for k := range tr.Spec.Filter.Attributes {
			if !lowerAlnum(k) {
				t.Errorf("Trigger %s: attribute %q is not lowercase alphanumeric", name, k)
			}
		}
	}
}

func lowerAlnum(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// TestLocalBrokerReadsTriggers keeps `claimrisk up` working: the local
// broker reads the same Triggers from the embedded base that the cluster
// gets, with the same filters, subscribers and dead-letter sinks.
func TestLocalBrokerReadsTriggers(t *testing.T) {
	local, err := localrun.LoadTriggers(knative.Base, "base")
	if err != nil {
		t.Fatal(err)
	}
	rendered := names[eventingv1.Trigger](render(t, "local"))
	if len(local) != len(rendered) {
		t.Errorf("the local broker reads %d Triggers, the overlay renders %d", len(local), len(rendered))
	}
	for _, lt := range local {
		tr := rendered[lt.Name]
		if tr == nil {
			t.Errorf("the local broker reads Trigger %s, which the overlay does not render", lt.Name)
			continue
		}
		if got, want := lt.Attributes, tr.Spec.Filter.Attributes; !equalMaps(got, want) {
			t.Errorf("Trigger %s: local filter %v, cluster filter %v", lt.Name, got, want)
		}
		if lt.Subscriber != tr.Spec.Subscriber.Ref.Name {
			t.Errorf("Trigger %s: local subscriber %s, cluster %s", lt.Name, lt.Subscriber, tr.Spec.Subscriber.Ref.Name)
		}
		if lt.DeadLetter == "" {
			t.Errorf("Trigger %s: the local broker sees no dead-letter sink", lt.Name)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// funcYAML is the part of a func.yaml the cross-checks read; the schema
// check covers the rest.
type funcYAML struct {
	Name   string `json:"name"`
	Invoke string `json:"invoke"`
	Deploy struct {
		HealthEndpoints struct {
			Liveness  string `json:"liveness"`
			Readiness string `json:"readiness"`
		} `json:"healthEndpoints"`
		Options struct {
			Scale struct {
				Min    *int64   `json:"min"`
				Max    *int64   `json:"max"`
				Target *float64 `json:"target"`
			} `json:"scale"`
			Resources struct {
				Requests struct {
					CPU    string `json:"cpu"`
					Memory string `json:"memory"`
				} `json:"requests"`
				Limits struct {
					CPU         string `json:"cpu"`
					Memory      string `json:"memory"`
					Concurrency *int64 `json:"concurrency"`
				} `json:"limits"`
			} `json:"resources"`
		} `json:"options"`
		Subscriptions []struct {
			Source  string            `json:"source"`
			Filters map[string]string `json:"filters"`
		} `json:"subscriptions"`
	} `json:"deploy"`
}

// TestFuncYAML checks each function's func.yaml against knative.dev/func's
// JSON schema (testdata/README.md says where the copy comes from) and
// against the Knative Service and Triggers the local overlay renders.
func TestFuncYAML(t *testing.T) {
	c := jsonschema.NewCompiler()
	schema, err := c.Compile(filepath.Join("testdata", "func_yaml-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	// func.yaml describes a function as the base deploys it; the local
	// overlay resizes it for a laptop.
	objs := render(t, "base")
	services := knativeServices(objs)
	triggers := names[eventingv1.Trigger](objs)
	for _, fn := range fnspec.All() {
		name := fn.Name
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "functions", name, "func.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			j, err := yaml.YAMLToJSON(raw)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Fatalf("func.yaml does not match func's schema: %v", err)
			}
			var f funcYAML
			if err := json.Unmarshal(j, &f); err != nil {
				t.Fatal(err)
			}
			if f.Name != name {
				t.Errorf("name = %q, want %q", f.Name, name)
			}
			if f.Invoke != fn.Invoke {
				t.Errorf("invoke = %q, want %q (shared/fnspec)", f.Invoke, fn.Invoke)
			}
			if f.Deploy.HealthEndpoints.Liveness != "/health/liveness" || f.Deploy.HealthEndpoints.Readiness != "/health/readiness" {
				t.Errorf("healthEndpoints = %+v, want the func-go runtime's /health/liveness and /health/readiness", f.Deploy.HealthEndpoints)
			}
			svc := services[name]
			if svc == nil {
				t.Fatalf("no Knative Service %s", name)
			}
			ann := svc.Spec.Template.Annotations
			sc := f.Deploy.Options.Scale
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s: func.yaml says %q, the Service %q", what, got, want)
				}
			}
			check("scale.min", fmtInt(sc.Min), ann["autoscaling.knative.dev/min-scale"])
			check("scale.max", fmtInt(sc.Max), ann["autoscaling.knative.dev/max-scale"])
			if sc.Target != nil {
				check("scale.target", strconv.FormatFloat(*sc.Target, 'f', -1, 64), ann["autoscaling.knative.dev/target"])
			}
			res := svc.Spec.Template.Spec.Containers[0].Resources
			r := f.Deploy.Options.Resources
			check("requests.cpu", quantityString(t, r.Requests.CPU), res.Requests.Cpu().String())
			check("requests.memory", quantityString(t, r.Requests.Memory), res.Requests.Memory().String())
			check("limits.cpu", quantityString(t, r.Limits.CPU), res.Limits.Cpu().String())
			check("limits.memory", quantityString(t, r.Limits.Memory), res.Limits.Memory().String())
			if cc := svc.Spec.Template.Spec.ContainerConcurrency; cc != nil {
				check("limits.concurrency", fmtInt(r.Limits.Concurrency), strconv.FormatInt(*cc, 10))
			}
			// Subscriptions: the Triggers whose subscriber is this Service
			// without a uri (func cannot express a uri).
			var want, got []string
			for _, tr := range triggers {
				if tr.Spec.Subscriber.Ref.Name == name && tr.Spec.Subscriber.URI == nil {
					want = append(want, tr.Spec.Broker+" "+fmtFilter(tr.Spec.Filter.Attributes))
				}
			}
			for _, s := range f.Deploy.Subscriptions {
				got = append(got, s.Source+" "+fmtFilter(s.Filters))
			}
			if !sameSet(got, want) {
				t.Errorf("subscriptions %v, but the Triggers subscribe %v", got, want)
			}
		})
	}
}

func fmtInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func quantityString(t *testing.T, s string) string {
	t.Helper()
	if s == "" {
		return "0"
	}
	q := quantity(t, s)
	return q.String()
}

func fmtFilter(attrs map[string]string) string {
	parts := make([]string, 0, len(attrs))
	for _, k := range sortedKeys(attrs) {
		parts = append(parts, k+"="+attrs[k])
	}
	return strings.Join(parts, ",")
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func hasEnv(c corev1.Container, name, value string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

func requiresSecret(c corev1.Container, name string) bool {
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil && ef.SecretRef.Name == name {
			return ef.SecretRef.Optional == nil || !*ef.SecretRef.Optional
		}
	}
	return false
}

// clusterScoped are the rendered kinds that have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true}

// TestEveryObjectHasTheNamespace: an object an overlay renders without a
// namespace lands in whatever namespace kubectl defaults to, where nothing
// finds it (a Secret or claim in default breaks every pod that needs it).
func TestEveryObjectHasTheNamespace(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			for _, o := range render(t, overlay) {
				switch {
				case clusterScoped[o.Kind] && o.Namespace != "":
					t.Errorf("%s is cluster-scoped but names namespace %q", o, o.Namespace)
				case !clusterScoped[o.Kind] && o.Namespace != "claimrisk":
					t.Errorf("%s: namespace %q, want claimrisk", o, o.Namespace)
				}
			}
		})
	}
}

// TestEvidentlyJobSharesTheUIsVolume: the job and the UI share a
// ReadWriteOnce workspace, so the job's pods must run on the UI's node, and
// the job writes its reports to the bucket, so its mount is writable.
func TestEvidentlyJobSharesTheUIsVolume(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			jobs := names[batchv1.CronJob](render(t, overlay))
			job := jobs["evidently-report"]
			if job == nil {
				t.Fatal("no CronJob evidently-report")
			}
			spec := job.Spec.JobTemplate.Spec.Template.Spec
			a := spec.Affinity
			if a == nil || a.PodAffinity == nil || len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) == 0 {
				t.Fatal("evidently-report: needs a required podAffinity to the evidently-ui pod")
			}
			term := a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
			if term.TopologyKey != "kubernetes.io/hostname" || term.LabelSelector == nil ||
				term.LabelSelector.MatchLabels["app.kubernetes.io/name"] != "evidently-ui" {
				t.Errorf("evidently-report: podAffinity %+v does not place it on the evidently-ui pod's node", term)
			}
			for _, m := range spec.Containers[0].VolumeMounts {
				if m.Name == "bucket" && m.ReadOnly {
					t.Errorf("evidently-report: the bucket is mounted read-only, but the job writes its reports there")
				}
			}
		})
	}
}

// TestKindNodeMatchesTheSourceCluster: kind's node image is pinned, to the
// Kubernetes minor version the source-built cluster runs and Knative 1.20
// supports; kind's own default moves on with kind.
func TestKindNodeMatchesTheSourceCluster(t *testing.T) {
	root := testenv.RepoRoot(t)
	kindYAML, err := os.ReadFile(filepath.Join(root, "config", "knative", "cluster", "kind.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	versions, err := os.ReadFile(filepath.Join(root, "config", "knative", "cluster", "source", "versions.sh"))
	if err != nil {
		t.Fatal(err)
	}
	image := regexp.MustCompile(`(?m)^\s*image: kindest/node:v1\.(\d+)\.\d+@sha256:[0-9a-f]{64}$`).FindSubmatch(kindYAML)
	if image == nil {
		t.Fatal("kind.yaml: no node image pinned as kindest/node:v1.N.M@sha256:...")
	}
	source := regexp.MustCompile(`(?m)^KUBERNETES_VERSION=v1\.(\d+)\.\d+$`).FindSubmatch(versions)
	if source == nil {
		t.Fatal("versions.sh: no KUBERNETES_VERSION=v1.N.M")
	}
	kindMinor, _ := strconv.Atoi(string(image[1]))
	sourceMinor, _ := strconv.Atoi(string(source[1]))
	if kindMinor != sourceMinor {
		t.Errorf("kind's node runs Kubernetes 1.%d, the source-built cluster 1.%d", kindMinor, sourceMinor)
	}
	// Knative 1.20 (serving v0.47.0) needs at least 1.32; the newest it is
	// tested on is 1.34.
	if kindMinor < 32 || kindMinor > 34 {
		t.Errorf("Kubernetes 1.%d is outside what Knative 1.20 supports (1.32 to 1.34)", kindMinor)
	}
}

func TestGoMemLimitParsesTheRuntimesFormat(t *testing.T) {
	for v, want := range map[string]int64{"384MiB": 384 << 20, "1GiB": 1 << 30, "1000": 1000, "512B": 512, "2KiB": 2048} {
		if got, err := goMemLimit(v); err != nil || got != want {
			t.Errorf("goMemLimit(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	if _, err := goMemLimit("384Mi"); err == nil {
		t.Error("goMemLimit accepted Kubernetes' 384Mi, which the Go runtime refuses")
	}
}
