package fnspec

import (
	"slices"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/events"
)

// Function describes one function.
type Function struct {
	// Name is the function's directory under functions/, and the name of
	// its binary in bin/, its image, its Knative Service and its log file
	// under `claimrisk up`.
	Name string
	// Invoke is func.yaml's invoke: "cloudevent" for a function that takes
	// CloudEvents only, "http" for one that serves its own routes.
	Invoke string
	// PortOffset is the function's port under `claimrisk up`, counted
	// from --base-port (the broker's port).
	PortOffset int
	// Ready is the path that answers 200 once the function has started,
	// which `claimrisk up` waits for and the lab checker asks: func-go's
	// readiness path, or its liveness path for a function that is ready
	// only once something outside it exists (predict, a champion).
	Ready string
	// Config returns a new zero value of the function's envconfig struct
	// from shared/config.
	Config func() any
}

// Invoke values, as func.yaml writes them.
const (
	InvokeCloudEvent = "cloudevent"
	InvokeHTTP       = "http"
)

// The health paths of the func-go runtime.
const (
	Readiness = "/health/readiness"
	Liveness  = "/health/liveness"
)

// ImageRepo is where the functions' images are named: containers/images.sh
// builds IMAGE_REPO/NAME with this default, and config/knative/base names
// them so; the overlays and `make deploy` rename them.
const ImageRepo = "kind.local/claimrisk"

// table is every function, in the order `claimrisk up` starts them.
var table = []Function{
	{Name: "train", Invoke: InvokeCloudEvent, PortOffset: 1, Ready: Readiness, Config: func() any { return &config.Train{} }},
	{Name: "register", Invoke: InvokeCloudEvent, PortOffset: 2, Ready: Readiness, Config: func() any { return &config.Register{} }},
	{Name: "predict", Invoke: InvokeHTTP, PortOffset: 3, Ready: Liveness, Config: func() any { return &config.Predict{} }},
	{Name: "drift", Invoke: InvokeCloudEvent, PortOffset: 4, Ready: Readiness, Config: func() any { return &config.Drift{} }},
}

// All returns every function, in start order.
func All() []Function { return slices.Clone(table) }

// Names returns the functions' names, in start order.
func Names() []string {
	out := make([]string, len(table))
	for i, f := range table {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the function called name.
func Lookup(name string) (Function, bool) {
	i := slices.IndexFunc(table, func(f Function) bool { return f.Name == name })
	if i < 0 {
		return Function{}, false
	}
	return table[i], true
}

// PortSpan is how many consecutive ports from --base-port a local system
// may use: the broker's and every function's.
func PortSpan() int {
	n := 1
	for _, f := range table {
		n = max(n, f.PortOffset+1)
	}
	return n
}

// Image is the function's image without a tag, as config/knative/base
// names it.
func (f Function) Image() string { return ImageRepo + "/" + f.Name }

// Accepts returns the event types the Triggers deliver to the function,
// from the events catalogue, in its order.
func (f Function) Accepts() []string {
	var out []string
	for _, e := range events.Catalogue {
		for _, s := range e.Consumers {
			c, err := events.ParseConsumer(s)
			if err != nil {
				// The catalogue is code, and its test reads every consumer.
				panic(err)
			}
			if c.Service == f.Name && !slices.Contains(out, e.Type) {
				out = append(out, e.Type)
			}
		}
	}
	return out
}

// Emits returns the event types the function sends, from the events
// catalogue, in its order.
func (f Function) Emits() []string {
	var out []string
	for _, e := range events.Catalogue {
		if e.Producer == f.Name {
			out = append(out, e.Type)
		}
	}
	return out
}
