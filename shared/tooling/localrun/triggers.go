package localrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Trigger is the part of a Knative Trigger the local broker needs.
type Trigger struct {
	Name string
	// Attributes must all match exactly (spec.filter.attributes).
	Attributes map[string]string
	// Subscriber is the name of the subscribed Service, or a URI.
	Subscriber    string
	SubscriberURI string
	Retry         int
	BackoffDelay  time.Duration
	Exponential   bool
	DeadLetter    string
}

// Matches reports whether an event with these attributes passes the filter.
func (t Trigger) Matches(attrs map[string]string) bool {
	for k, v := range t.Attributes {
		if attrs[k] != v {
			return false
		}
	}
	return true
}

type triggerManifest struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Filter struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"filter"`
		Filters    []json.RawMessage `json:"filters"`
		Subscriber struct {
			Ref struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"ref"`
			URI string `json:"uri"`
		} `json:"subscriber"`
		Delivery struct {
			Retry          *int   `json:"retry"`
			BackoffPolicy  string `json:"backoffPolicy"`
			BackoffDelay   string `json:"backoffDelay"`
			DeadLetterSink struct {
				Ref struct {
					Name string `json:"name"`
				} `json:"ref"`
				URI string `json:"uri"`
			} `json:"deadLetterSink"`
		} `json:"delivery"`
	} `json:"spec"`
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// LoadTriggers reads every Trigger in the YAML files of dir in fsys.
func LoadTriggers(fsys fs.FS, dir string) ([]Trigger, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("localrun: list manifests: %w", err)
	}
	sort.Strings(files)
	var out []Trigger
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("localrun: read %s: %w", f, err)
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("localrun: %s document %d: %w", f, i+1, err)
			}
			var m triggerManifest
			if err := json.NewDecoder(bytes.NewReader(j)).Decode(&m); err != nil || m.Kind != "Trigger" {
				continue
			}
			t, err := m.trigger()
			if err != nil {
				return nil, fmt.Errorf("localrun: %s: trigger %s: %w", f, m.Metadata.Name, err)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

func (m triggerManifest) trigger() (Trigger, error) {
	if len(m.Spec.Filters) > 0 {
		return Trigger{}, fmt.Errorf("spec.filters is not supported by the local broker; use spec.filter.attributes")
	}
	t := Trigger{
		Name: m.Metadata.Name, Attributes: m.Spec.Filter.Attributes,
		Subscriber: m.Spec.Subscriber.Ref.Name, SubscriberURI: m.Spec.Subscriber.URI,
		DeadLetter:  m.Spec.Delivery.DeadLetterSink.Ref.Name,
		Exponential: m.Spec.Delivery.BackoffPolicy != "linear",
	}
	if t.Subscriber == "" && t.SubscriberURI == "" {
		return Trigger{}, fmt.Errorf("no subscriber")
	}
	if m.Spec.Delivery.Retry != nil {
		t.Retry = *m.Spec.Delivery.Retry
	}
	if d := m.Spec.Delivery.BackoffDelay; d != "" {
		dur, err := isoDuration(d)
		if err != nil {
			return Trigger{}, err
		}
		t.BackoffDelay = dur
	}
	return t, nil
}

var isoPattern = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$`)

// isoDuration parses the ISO 8601 durations Knative uses, such as PT0.5S.
func isoDuration(s string) (time.Duration, error) {
	m := isoPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("backoffDelay %q is not an ISO 8601 duration like PT2S", s)
	}
	return time.ParseDuration(fmt.Sprintf("%sh%sm%ss", orZero(m[1]), orZero(m[2]), orZero(m[3])))
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
