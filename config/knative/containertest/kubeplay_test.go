package containertest_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// renderLocal renders overlays/local and returns its documents as JSON.
func renderLocal(t *testing.T) [][]byte {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Require(t, "kubectl is not installed; it renders the kustomize overlays")
	}
	cmd := exec.Command(kubectl, "kustomize", filepath.Join(testenv.RepoRoot(t), "config", "knative", "overlays", "local"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
	}
	var docs [][]byte
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, j)
	}
	return docs
}

// TestPodTemplatesKubePlay runs the functions' Knative pod templates, as
// the local overlay renders them, under `podman kube play`: each template
// becomes a plain Pod with the same container (probes, resources,
// securityContext, envFrom, volumes), this test's image, the bucket as a
// hostPath, and a hostPort on 127.0.0.1. Each must answer its health
// endpoints; `podman kube down` removes them.
func TestPodTemplatesKubePlay(t *testing.T) {
	buildImages(t)
	docs := renderLocal(t)
	bucket := bucketDir(t)

	var configMaps []corev1.ConfigMap
	secrets := map[string]corev1.Secret{}
	services := map[string]servingv1.Service{}
	for _, j := range docs {
		var head metav1.TypeMeta
		if err := yaml.Unmarshal(j, &head); err != nil {
			t.Fatal(err)
		}
		switch head.APIVersion + " " + head.Kind {
		case "v1 ConfigMap":
			var cm corev1.ConfigMap
			mustUnmarshal(t, j, &cm)
			configMaps = append(configMaps, cm)
		case "v1 Secret":
			var s corev1.Secret
			mustUnmarshal(t, j, &s)
			secrets[s.Name] = s
		case "serving.knative.dev/v1 Service":
			var s servingv1.Service
			mustUnmarshal(t, j, &s)
			services[s.Name] = s
		}
	}

	var kube bytes.Buffer
	for _, cm := range configMaps {
		cm.Namespace = ""
		writeDoc(t, &kube, cm)
	}
	ports := map[string]string{}
	suffix := strconv.Itoa(os.Getpid())
	for _, fn := range fnspec.Names() {
		svc, ok := services[fn]
		if !ok {
			t.Fatalf("the local overlay renders no Knative Service %s", fn)
		}
		pod := podFromTemplate(t, svc, fn+"-kubeplay-"+suffix, secrets, bucket)
		addr := testenv.FreeAddr(t)
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		pod.Spec.Containers[0].Ports[0].HostPort = int32(p)
		pod.Spec.Containers[0].Ports[0].HostIP = host
		ports[fn] = addr
		writeDoc(t, &kube, pod)
	}
	file := filepath.Join(t.TempDir(), "pods.yaml")
	if err := os.WriteFile(file, kube.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, err := exec.Command("podman", "kube", "play", file).CombinedOutput(); err != nil {
		t.Fatalf("podman kube play: %v\n%s\n%s", err, out, kube.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, fn := range fnspec.Names() {
				logs, _ := exec.Command("podman", "logs", fn+"-kubeplay-"+suffix+"-"+fn).CombinedOutput()
				t.Logf("log of %s:\n%s", fn, logs)
			}
		}
		if out, err := exec.Command("podman", "kube", "down", file).CombinedOutput(); err != nil {
			t.Errorf("podman kube down: %v\n%s", err, out)
		}
	})
	for _, f := range fnspec.All() {
		// f.Ready: predict is ready only once a champion exists.
		waitOK(t, "http://"+ports[f.Name]+f.Ready, 30*time.Second)
		waitOK(t, "http://"+ports[f.Name]+fnspec.Liveness, 5*time.Second)
	}
	t.Logf("the %d pods answered their health endpoints %.1f s after podman kube play", len(ports), time.Since(start).Seconds())

	// The pod's limits and user reach the container.
	for _, fn := range fnspec.Names() {
		name := fn + "-kubeplay-" + suffix + "-" + fn
		want := services[fn].Spec.Template.Spec.Containers[0].Resources.Limits.Memory().Value()
		if got := podman(t, "inspect", "--format", "{{.HostConfig.Memory}}", name); got != strconv.FormatInt(want, 10) {
			t.Errorf("%s: memory limit %s, want %d", fn, got, want)
		}
		if got := podman(t, "inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}", name); got != "65532:65532 true" && got != "65532 true" {
			t.Errorf("%s: user and read-only root = %q", fn, got)
		}
	}
}

// podFromTemplate turns a Knative Service's revision template into a Pod
// podman can play: the container as rendered, with the test's image, the
// Secrets' values as plain env (podman 4.3's kube play cannot read
// Kubernetes Secrets), and the bucket claim as a hostPath.
func podFromTemplate(t *testing.T, svc servingv1.Service, name string, secrets map[string]corev1.Secret, bucket string) corev1.Pod {
	t.Helper()
	spec := *svc.Spec.Template.Spec.PodSpec.DeepCopy()
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", svc.Name, len(spec.Containers))
	}
	c := &spec.Containers[0]
	c.Image = image(svc.Name)
	var envFrom []corev1.EnvFromSource
	for _, ef := range c.EnvFrom {
		if ef.SecretRef == nil {
			envFrom = append(envFrom, ef)
			continue
		}
		s, ok := secrets[ef.SecretRef.Name]
		if !ok {
			if ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
				continue
			}
			t.Fatalf("%s: Secret %s is not rendered", svc.Name, ef.SecretRef.Name)
		}
		for k, v := range s.StringData {
			c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: v})
		}
		for k, v := range s.Data {
			c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: string(v)})
		}
	}
	c.EnvFrom = envFrom
	for i, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			dir := corev1.HostPathDirectory
			spec.Volumes[i].VolumeSource = corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: bucket, Type: &dir}}
		}
	}
	if len(c.Ports) != 1 {
		t.Fatalf("%s: %d ports", svc.Name, len(c.Ports))
	}
	c.Ports[0].Name = "" // Knative's "http1" is not a port name podman needs
	spec.RestartPolicy = corev1.RestartPolicyNever
	return corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: svc.Spec.Template.Labels},
		Spec:       spec,
	}
}

func mustUnmarshal(t *testing.T, j []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(j, v); err != nil {
		t.Fatal(err)
	}
}

func writeDoc(t *testing.T, w *bytes.Buffer, v any) {
	t.Helper()
	y, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "---\n%s", y)
}
