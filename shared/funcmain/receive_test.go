package funcmain_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// request is one raw HTTP request to an event function.
type request struct {
	name    string
	method  string
	headers map[string]string
	body    string
}

// binary are the binary-mode headers of a well-formed event of type typ,
// with the headers in set changed and those in drop left out.
func binary(typ string, set map[string]string, drop ...string) map[string]string {
	h := map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "bad-1", "Ce-Source": "/test", "Ce-Type": typ, "Content-Type": "application/json"}
	for k, v := range set {
		h[k] = v
	}
	for _, k := range drop {
		delete(h, k)
	}
	return h
}

var structured = map[string]string{"Content-Type": "application/cloudevents+json"}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// malformed are requests that are not one well-formed CloudEvent: the
// classes found in issue 14 and their neighbours. typ is the type the
// function takes, so that only the malformation is wrong.
func malformed(typ string) []request {
	envelope := func(extra string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":"bad-2","source":"/test","type":%q%s}`, typ, extra)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return []request{
		{name: "empty ce-id", headers: binary(typ, map[string]string{"Ce-Id": ""}), body: "{}"},
		{name: "ce-id of blanks", headers: binary(typ, map[string]string{"Ce-Id": "   "}), body: "{}"},
		{name: "ce-id of 300 characters", headers: binary(typ, map[string]string{"Ce-Id": strings.Repeat("i", 300)}), body: "{}"},
		{name: "ce-time not a timestamp", headers: binary(typ, map[string]string{"Ce-Time": "yesterday"}), body: "{}"},
		{name: "ce-time in the year 9999", headers: binary(typ, map[string]string{"Ce-Time": "9999-12-31T23:59:59Z"}), body: "{}"},
		{name: "ce-time an hour ahead", headers: binary(typ, map[string]string{"Ce-Time": future}), body: "{}"},
		{name: "no ce-specversion", headers: binary(typ, nil, "Ce-Specversion"), body: "{}"},
		{name: "ce-specversion 2.0", headers: binary(typ, map[string]string{"Ce-Specversion": "2.0"}), body: "{}"},
		{name: "no ce-source", headers: binary(typ, nil, "Ce-Source"), body: "{}"},
		{name: "no ce-type", headers: binary(typ, nil, "Ce-Type"), body: "{}"},
		{name: "structured, body not JSON", headers: structured, body: `{"specversion":"1.0",`},
		{name: "structured, body an array", headers: structured, body: `[1,2]`},
		{name: "structured, id a number", headers: structured, body: `{"specversion":"1.0","id":5,"source":"/test","type":"` + typ + `"}`},
		{name: "structured, data_base64 not base64", headers: structured, body: envelope(`,"data_base64":"!!!not base64!!!"`)},
		{name: "structured, data nested 20000 deep", headers: structured, body: envelope(`,"datacontenttype":"application/json","data":` + nested(20000))},
		{name: "batch", headers: map[string]string{"Content-Type": "application/cloudevents-batch+json"}, body: "[" + envelope("") + "]"},
		{name: "plain JSON, no CloudEvent", headers: map[string]string{"Content-Type": "application/json"}, body: `{"hello":1}`},
		{name: "body over 1 MiB", headers: binary(typ, nil), body: `{"x":"` + strings.Repeat("x", 1<<20) + `"}`},
		{name: "GET", method: http.MethodGet, headers: binary(typ, nil)},
	}
}

// Every malformed event gets a 4xx with a one-line reason from the
// function itself, on each of the event functions (func.yaml's invoke
// cloudevent), and none stops it. Each is sent the first type it accepts.
func TestMalformedEventsGetA4xxWithAReason(t *testing.T) {
	for _, fn := range fnspec.All() {
		if fn.Invoke != fnspec.InvokeCloudEvent {
			continue
		}
		t.Run(fn.Name, func(t *testing.T) {
			t.Parallel()
			accepts := fn.Accepts()
			if len(accepts) == 0 {
				t.Fatalf("%s takes CloudEvents, but the events catalogue delivers it none", fn.Name)
			}
			f := testenv.StartFunction(t, fn.Name, "CLAIMRISK_BUCKET=file://"+t.TempDir(), "LOG_LEVEL=error")
			for _, req := range malformed(accepts[0]) {
				method := req.method
				if method == "" {
					method = http.MethodPost
				}
				r, _ := http.NewRequest(method, f.URL, strings.NewReader(req.body))
				for k, v := range req.headers {
					r.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatalf("%s: %v", req.name, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				msg := strings.TrimSpace(string(body))
				t.Logf("%-36s %d %s", req.name, resp.StatusCode, msg)
				if resp.StatusCode/100 != 4 || !strings.HasPrefix(msg, fn.Name+": ") || strings.Contains(msg, "\n") {
					t.Errorf("%s: %d %q; want a 4xx with one line starting %q", req.name, resp.StatusCode, msg, fn.Name+": ")
				}
			}
			resp, err := http.Get(f.URL + "/health/readiness")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("readiness after the malformed events: %v, %v", resp, err)
			}
		})
	}
}

// Errors are permanent (4xx: the broker does not retry) or transient (5xx:
// it does), by what they wrap.
func TestErrorsArePermanentOrTransient(t *testing.T) {
	t.Parallel()
	errNoData := errors.New("no such data")
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"an event against the grammar", fmt.Errorf("train: %w", events.CheckID("dataset_id", "../x")), 400},
		{"an undecodable payload", events.Decode(event.New(), &struct{}{}), 400},
		{"an object the event names is missing", fmt.Errorf("read: %w", blobstore.ErrNotFound), 422},
		{"marked permanent", fmt.Errorf("%w: another bucket", funcmain.ErrPermanent), 422},
		{"the function's own permanent error", fmt.Errorf("train: %w", errNoData), 422},
		{"a bucket outage", fmt.Errorf("%w: disk gone", blobstore.ErrUnavailable), 503},
		{"a timeout", fmt.Errorf("mlflow: %w", context.DeadlineExceeded), 503},
		{"anything else", errors.New("connection refused"), 503},
	} {
		if got := funcmain.Status(tt.err, errNoData); got != tt.want {
			t.Errorf("%s (%v): %d; want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

// Whatever arrives, Guard passes on a well-formed event or answers a 4xx
// with one line of its own; it never panics and never answers 5xx.
func FuzzGuard(f *testing.F) {
	f.Add("id-1", "2026-01-01T00:00:00Z", events.Ping, "application/json", []byte(`{"check":"drift"}`))
	f.Add("", "yesterday", events.ModelTrained, "application/json", []byte(`{}`))
	f.Add("-", "", "", "application/cloudevents+json", []byte(`{"specversion":"1.0","id":"x","source":"/s","type":"t","data_base64":"!!"}`))
	f.Add("-", "", "", "application/cloudevents-batch+json", []byte(`[]`))
	f.Add("x\x00y", "9999-12-31T23:59:59Z", "t", "text/plain", []byte{0xff, 0xfe})
	passed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ref := funcmain.ReadEvent(w, r); ref != nil {
			panic("Guard passed on an event the next reader refuses: " + ref.Reason)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := funcmain.Guard("fuzz", passed)
	f.Fuzz(func(t *testing.T, id, at, typ, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if id != "-" {
			r.Header.Set("Ce-Specversion", "1.0")
			r.Header.Set("Ce-Source", "/fuzz")
			r.Header.Set("Ce-Id", id)
			r.Header.Set("Ce-Type", typ)
			if at != "" {
				r.Header.Set("Ce-Time", at)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		msg := strings.TrimSpace(w.Body.String())
		if w.Code != http.StatusNoContent && (w.Code/100 != 4 || !strings.HasPrefix(msg, "fuzz: ") || strings.Contains(msg, "\n")) {
			t.Fatalf("%d %q; want the event passed on, or a 4xx with one line", w.Code, msg)
		}
	})
}
