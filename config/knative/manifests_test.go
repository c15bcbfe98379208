package knative_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/apis/feature"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	servingcfg "knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	autoscalercfg "knative.dev/serving/pkg/autoscaler/config"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// Overlays are the environments under overlays/: production-kafka is
// production with the durable Broker of components/kafka-broker.
var Overlays = []string{"local", "production", "production-kafka"}

// production reports whether an overlay is one of production's.
func production(overlay string) bool { return strings.HasPrefix(overlay, "production") }

// object is one document of a rendered overlay, decoded strictly into its
// Kubernetes or Knative Go type.
type object struct {
	APIVersion, Kind, Name string
	// Namespace is metadata.namespace as rendered ("" when unset).
	Namespace string
	JSON      []byte
	Typed     any
}

func (o object) String() string { return o.Kind + "/" + o.Name }

// rendering is one overlay rendered once per test process.
type rendering struct {
	once sync.Once
	objs []object
	err  error
}

var renderings = map[string]*rendering{"local": {}, "production": {}, "production-kafka": {}, "canary": {}, "base": {}, "smoke": {}}

// render runs `kubectl kustomize` on an overlay and decodes every document
// strictly: an unknown or misspelt field, or a wrong type, fails here.
func render(t *testing.T, overlay string) []object {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Require(t, "kubectl is not installed; it renders the kustomize overlays")
	}
	r := renderings[overlay]
	r.once.Do(func() {
		dir := filepath.Join("overlays", overlay)
		if overlay == "base" {
			dir = "base"
		}
		cmd := exec.Command(kubectl, "kustomize", dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			r.err = fmt.Errorf("kubectl kustomize overlays/%s: %v\n%s", overlay, err, stderr.String())
			return
		}
		r.objs, r.err = decodeAll(out)
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.objs
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func decodeAll(data []byte) ([]object, error) {
	var objs []object
	for i, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		o := object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, JSON: j}
		typed, err := newTyped(o.APIVersion, o.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o, err)
		}
		if err := strictDecode(j, typed); err != nil {
			return nil, fmt.Errorf("%s: %w", o, err)
		}
		o.Typed = typed
		objs = append(objs, o)
	}
	return objs, nil
}

// newTyped returns a pointer to the Go type of an apiVersion and kind; the
// overlays may hold no other kinds.
func newTyped(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 PersistentVolume":
		return &corev1.PersistentVolume{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}, nil
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "serving.knative.dev/v1 Service":
		return &servingv1.Service{}, nil
	case "eventing.knative.dev/v1 Broker":
		return &eventingv1.Broker{}, nil
	case "eventing.knative.dev/v1 Trigger":
		return &eventingv1.Trigger{}, nil
	case "sources.knative.dev/v1 PingSource":
		return &sourcesv1.PingSource{}, nil
	}
	return nil, fmt.Errorf("unexpected kind %s %s: add it to newTyped with its Go type", apiVersion, kind)
}

// strictDecode decodes as the API server does with strict field validation:
// case-sensitive, no unknown and no duplicate fields.
func strictDecode(j []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// clusterData reads the data of a ConfigMap patch in cluster/, which
// `make cluster-up` merges into the cluster's Knative configuration.
func clusterData(t *testing.T, file string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("cluster", file))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.UnmarshalStrict(raw, &cm); err != nil {
		t.Fatalf("cluster/%s: %v", file, err)
	}
	return cm.Data
}

// knativeContext is the context the Knative webhooks validate with on the
// overlay's cluster: the local cluster runs with the settings in cluster/,
// production with Knative's defaults.
func knativeContext(t *testing.T, overlay string) context.Context {
	t.Helper()
	var features, autoscaler map[string]string
	if overlay == "local" {
		features = clusterData(t, "serving-features.yaml")
		autoscaler = clusterData(t, "serving-autoscaler.yaml")
	}
	f, err := servingcfg.NewFeaturesConfigFromMap(features)
	if err != nil {
		t.Fatal(err)
	}
	a, err := autoscalercfg.NewConfigFromMap(autoscaler)
	if err != nil {
		t.Fatal(err)
	}
	d, err := servingcfg.NewDefaultsConfigFromMap(nil)
	if err != nil {
		t.Fatal(err)
	}
	flags, err := feature.NewFlagsConfigFromMap(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := servingcfg.ToContext(context.Background(), &servingcfg.Config{Defaults: d, Features: f, Autoscaler: a})
	return apis.WithinCreate(feature.ToContext(ctx, flags))
}

// knativeResource is what the Knative types share for the webhook steps.
type knativeResource interface {
	apis.Defaultable
	apis.Validatable
}

// TestOverlaysValidate renders each overlay and validates every object: the
// Knative ones with Knative's own defaulting and validation (serving and
// eventing v0.47.0, Knative 1.20), the core ones by strict decoding (done
// in render) and the cross-object checks a cluster would otherwise report
// only at run time.
func TestOverlaysValidate(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			ctx := knativeContext(t, overlay)
			for _, o := range objs {
				kr, ok := o.Typed.(knativeResource)
				if !ok {
					continue
				}
				t.Run(o.String(), func(t *testing.T) {
					kr.SetDefaults(ctx)
					fe := kr.Validate(ctx)
					if w := fe.Filter(apis.WarningLevel); w != nil {
						t.Logf("%s: Knative warns: %v", o, w)
					}
					if errs := fe.Filter(apis.ErrorLevel); errs != nil {
						t.Errorf("%s: Knative rejects it: %v", o, errs)
					}
				})
			}
			for _, err := range crossChecks(overlay, objs) {
				t.Error(err)
			}
		})
	}
}

// externalSecrets are the Secrets production expects to exist; the local
// overlay generates every Secret it refers to without optional: true.
var externalSecrets = map[string]bool{
	"claimrisk-pseudonym-key":      true,
	"claimrisk-bucket-credentials": true,
	"claimrisk-mlflow-credentials": true,
	"claimrisk-api-token":          true,
	"claimrisk-event-key":          true,
	"mlflow-backend-store":         true,
	"mlflow-auth":                  true,
	"mlflow-artifacts-credentials": true,
}

// podTemplate is a pod spec of a workload with the labels its pods carry.
type podTemplate struct {
	Owner  string
	Labels map[string]string
	Spec   corev1.PodSpec
	// Claims are the StatefulSet's volumeClaimTemplates.
	Claims []string
	// Job is true for Jobs' pods, which need no probes.
	Job bool
	// Knative is true for a Knative Service's revision template.
	Knative bool
}

func podTemplates(objs []object) []podTemplate {
	var out []podTemplate
	for _, o := range objs {
		switch v := o.Typed.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{Owner: o.String(), Labels: v.Spec.Template.Labels, Spec: v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			pt := podTemplate{Owner: o.String(), Labels: v.Spec.Template.Labels, Spec: v.Spec.Template.Spec}
			for _, c := range v.Spec.VolumeClaimTemplates {
				pt.Claims = append(pt.Claims, c.Name)
			}
			out = append(out, pt)
		case *batchv1.CronJob:
			tpl := v.Spec.JobTemplate.Spec.Template
			out = append(out, podTemplate{Owner: o.String(), Labels: tpl.Labels, Spec: tpl.Spec, Job: true})
		case *servingv1.Service:
			out = append(out, podTemplate{Owner: o.String(), Labels: v.Spec.Template.Labels, Spec: v.Spec.Template.Spec.PodSpec, Knative: true})
		}
	}
	return out
}

func names[T any](objs []object) map[string]*T {
	out := map[string]*T{}
	for _, o := range objs {
		if v, ok := o.Typed.(*T); ok {
			out[o.Name] = v
		}
	}
	return out
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// crossChecks are what a cluster would report only when a pod starts or a
// request fails: references between objects, names, selectors, ports.
func crossChecks(overlay string, objs []object) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	configMaps := names[corev1.ConfigMap](objs)
	secrets := names[corev1.Secret](objs)
	claims := names[corev1.PersistentVolumeClaim](objs)
	services := names[corev1.Service](objs)
	seen := map[string]bool{}
	for _, o := range objs {
		key := o.APIVersion + " " + o.Kind + " " + o.Name
		if seen[key] {
			fail("%s is rendered twice", o)
		}
		seen[key] = true
		if msgs := validation.IsDNS1123Subdomain(o.Name); len(msgs) > 0 {
			fail("%s: bad name: %s", o, strings.Join(msgs, "; "))
		}
		if o.Kind == "Service" {
			if msgs := validation.IsDNS1035Label(o.Name); len(msgs) > 0 {
				fail("%s: a Service name must be a DNS-1035 label: %s", o, strings.Join(msgs, "; "))
			}
		}
	}
	secretRef := func(owner, name string, optional *bool) {
		if secrets[name] != nil || (optional != nil && *optional) {
			return
		}
		if production(overlay) && externalSecrets[name] {
			return
		}
		fail("%s refers to Secret %s, which is neither rendered nor optional nor a documented production Secret", owner, name)
	}
	configMapRef := func(owner, name string, optional *bool) {
		if configMaps[name] == nil && (optional == nil || !*optional) {
			fail("%s refers to ConfigMap %s, which is not rendered", owner, name)
		}
	}

	templates := podTemplates(objs)
	for _, pt := range templates {
		volumes := map[string]corev1.Volume{}
		for _, v := range pt.Spec.Volumes {
			volumes[v.Name] = v
			switch {
			case v.PersistentVolumeClaim != nil && claims[v.PersistentVolumeClaim.ClaimName] == nil:
				fail("%s: volume %s claims PVC %s, which is not rendered", pt.Owner, v.Name, v.PersistentVolumeClaim.ClaimName)
			case v.ConfigMap != nil:
				configMapRef(pt.Owner, v.ConfigMap.Name, v.ConfigMap.Optional)
			case v.Secret != nil:
				secretRef(pt.Owner, v.Secret.SecretName, v.Secret.Optional)
			}
		}
		for _, c := range pt.Spec.Containers {
			where := pt.Owner + " container " + c.Name
			for _, m := range c.VolumeMounts {
				if _, ok := volumes[m.Name]; !ok && !contains(pt.Claims, m.Name) {
					fail("%s mounts volume %s, which the pod does not declare", where, m.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					configMapRef(where, ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional)
				}
				if ef.SecretRef != nil {
					secretRef(where, ef.SecretRef.Name, ef.SecretRef.Optional)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					secretRef(where, r.Name, r.Optional)
					if s := secrets[r.Name]; s != nil {
						if _, ok := s.Data[r.Key]; !ok {
							if _, ok := s.StringData[r.Key]; !ok {
								fail("%s: env %s needs key %s, which Secret %s lacks", where, e.Name, r.Key, r.Name)
							}
						}
					}
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					configMapRef(where, r.Name, r.Optional)
				}
			}
			ports := map[string]bool{}
			for _, p := range c.Ports {
				if p.Name != "" {
					ports[p.Name] = true
				}
			}
			for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
				if p == nil {
					continue
				}
				var port string
				switch {
				case p.HTTPGet != nil:
					port = p.HTTPGet.Port.StrVal
				case p.TCPSocket != nil:
					port = p.TCPSocket.Port.StrVal
				}
				if port != "" && !ports[port] {
					fail("%s: %s probe names port %q, which the container does not declare", where, kind, port)
				}
			}
			for name, limit := range c.Resources.Limits {
				if req, ok := c.Resources.Requests[name]; ok && req.Cmp(limit) > 0 {
					fail("%s: %s request %s exceeds its limit %s", where, name, req.String(), limit.String())
				}
			}
		}
	}
	for _, o := range objs {
		switch v := o.Typed.(type) {
		case *appsv1.Deployment:
			if v.Spec.Selector == nil || !selects(v.Spec.Selector.MatchLabels, v.Spec.Template.Labels) {
				fail("%s: the selector does not select the pod template's labels", o)
			}
		case *appsv1.StatefulSet:
			if v.Spec.Selector == nil || !selects(v.Spec.Selector.MatchLabels, v.Spec.Template.Labels) {
				fail("%s: the selector does not select the pod template's labels", o)
			}
			if services[v.Spec.ServiceName] == nil {
				fail("%s: serviceName %s is not a rendered Service", o, v.Spec.ServiceName)
			}
		case *corev1.Service:
			if v.Spec.Selector != nil && !anySelected(v.Spec.Selector, templates) {
				fail("%s: the selector %v selects no pod template", o, v.Spec.Selector)
			}
		case *networkingv1.NetworkPolicy:
			if !anySelected(v.Spec.PodSelector.MatchLabels, templates) {
				fail("%s: podSelector %v selects no pod template", o, v.Spec.PodSelector.MatchLabels)
			}
			for _, rule := range v.Spec.Ingress {
				for _, peer := range rule.From {
					if peer.PodSelector != nil && !anySelected(peer.PodSelector.MatchLabels, templates) {
						fail("%s: peer %v selects no pod template", o, peer.PodSelector.MatchLabels)
					}
				}
			}
		case *corev1.PersistentVolume:
			if r := v.Spec.ClaimRef; r != nil && claims[r.Name] == nil {
				fail("%s: claimRef %s is not a rendered PVC", o, r.Name)
			}
		case *corev1.PersistentVolumeClaim:
			if _, ok := v.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
				fail("%s: no storage request", o)
			}
		}
	}
	return errs
}

func anySelected(selector map[string]string, templates []podTemplate) bool {
	for _, pt := range templates {
		if selects(selector, pt.Labels) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quantity parses a resource quantity for messages and comparisons.
func quantity(t *testing.T, s string) resource.Quantity {
	t.Helper()
	q, err := resource.ParseQuantity(s)
	if err != nil {
		t.Fatalf("quantity %q: %v", s, err)
	}
	return q
}

// sortedKeys lists a map's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestSmokeOverlayValidates: what `make smoke` adds to a deployed local
// overlay passes Knative's validation, and its cron events reach the drift
// function through the local overlay's Broker and Triggers.
func TestSmokeOverlayValidates(t *testing.T) {
	smoke := render(t, "smoke")
	ctx := knativeContext(t, "local")
	for _, o := range smoke {
		kr, ok := o.Typed.(knativeResource)
		if !ok {
			t.Errorf("%s: the smoke overlay holds only Knative objects", o)
			continue
		}
		kr.SetDefaults(ctx)
		if errs := kr.Validate(ctx).Filter(apis.ErrorLevel); errs != nil {
			t.Errorf("%s: Knative rejects it: %v", o, errs)
		}
		if o.Namespace != "claimrisk" {
			t.Errorf("%s: namespace %q, want claimrisk", o, o.Namespace)
		}
	}
	checkRoutes(t, append(render(t, "local"), smoke...))
}
