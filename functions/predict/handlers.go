package function

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// endpoint is one route of the API: the one list the mux, the 405
// answers and the request metrics' route label are made from.
type endpoint struct {
	method, path string
	handler      func(*Function) http.Handler
}

var endpoints = []endpoint{
	{"POST", "/v1/predict", func(f *Function) http.Handler { return http.HandlerFunc(f.predict) }},
	{"POST", "/v1/feedback", func(f *Function) http.Handler { return http.HandlerFunc(f.postFeedback) }},
	{"GET", "/v1/model", func(f *Function) http.Handler { return http.HandlerFunc(f.modelInfo) }},
	{"GET", "/v1/model/card", func(f *Function) http.Handler { return http.HandlerFunc(f.card) }},
	{"POST", "/v1/explain", func(f *Function) http.Handler { return http.HandlerFunc(f.explain) }},
	{"POST", "/v1/events", func(f *Function) http.Handler { return http.HandlerFunc(f.event) }},
	{"POST", "/v1/admin/flush", func(f *Function) http.Handler { return http.HandlerFunc(f.flush) }},
	{"GET", "/openapi.json", func(f *Function) http.Handler { return http.HandlerFunc(f.openapi) }},
	{"GET", "/docs", func(f *Function) http.Handler { return http.HandlerFunc(f.docs) }},
	{"GET", "/metrics", func(f *Function) http.Handler { return f.metrics.handler() }},
}

// methods are the routes' allowed methods by path, for 405 answers.
var methods = func() map[string]string {
	m := map[string]string{}
	for _, r := range endpoints {
		m[r.path] = r.method
	}
	return m
}()

func (f *Function) routes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range endpoints {
		mux.Handle(r.method+" "+r.path, r.handler(f))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Ce-Type") != "" {
			f.event(w, r) // a broker delivering to the Service's root
			return
		}
		if allow, ok := methods[r.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, allow))
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s; see /openapi.json", r.Method, r.URL.Path))
	})
	return f.observe(f.authenticate(mux))
}

// authenticate requires the bearer token on the API's /v1/ paths when one
// is configured. Health (served by the runtime), metrics and the API's
// description stay open for probes, scrapers and people.
func (f *Function) authenticate(next http.Handler) http.Handler {
	if f.cfg.APIToken == "" {
		return next
	}
	want := []byte("Bearer " + f.cfg.APIToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Events come from the broker, which holds no bearer token; they are
		// checked by their signature instead (see event).
		if strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Path != "/v1/events" {
			got := []byte(r.Header.Get("Authorization"))
			if subtle.ConstantTimeCompare(got, want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="claimrisk"`)
				writeError(w, http.StatusUnauthorized, "a valid bearer token is required (Authorization: Bearer <token>)")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// observe counts and times requests and turns a panic into a logged 500.
func (f *Function) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				f.log.Error("handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(p))
				writeError(rec, http.StatusInternalServerError, "internal error")
			}
			f.metrics.request(route(r), rec.status, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

func route(r *http.Request) string {
	if _, ok := methods[r.URL.Path]; ok {
		return r.URL.Path
	}
	return "other"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// buffers holds request bodies and answers between requests; one grown
// past maxPooled (a large batch) is left to the collector.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 1 << 20

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// jsonType is the Content-Type of every JSON answer; net/http copies the
// header when it is written, so the slice is never changed.
var jsonType = []string{"application/json"}

// writePrediction writes a prediction answer from a pooled buffer, in one
// write: the answer of every request to /v1/predict.
func writePrediction(w http.ResponseWriter, resp predictapi.PredictResponse) {
	buf := buffers.Get().(*[]byte)
	defer putBuffer(buf)
	if cap(*buf) == 0 {
		*buf = make([]byte, 0, 2048)
	}
	b, err := resp.AppendJSON((*buf)[:0])
	*buf = b
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal error: the answer cannot be written as JSON: "+err.Error())
		return
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, predictapi.ErrorResponse{Error: predictapi.ErrorBody{Status: status, Message: msg}})
}

// readJSON checks the content type and encoding and reads the body
// within the limit, which holds for a gzip body both before and after
// decompression.
// The body is read into buf, which the caller gets from buffers and puts
// back once it no longer needs the body.
func (f *Function) readJSON(w http.ResponseWriter, r *http.Request, buf *[]byte) ([]byte, bool) {
	ct := r.Header.Get("Content-Type")
	if ct != "application/json" && !isJSONType(ct) {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: send application/json", ct))
		return nil, false
	}
	limit := f.cfg.MaxBodyBytes
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	encoding := strings.ToLower(strings.TrimSpace(strings.Join(r.Header.Values("Content-Encoding"), ",")))
	switch encoding {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			if errors.As(err, new(*http.MaxBytesError)) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes; send smaller batches", limit))
			} else {
				writeError(w, http.StatusBadRequest, "Content-Encoding is gzip but the body is not gzip data: "+err.Error())
			}
			return nil, false
		}
		defer zr.Close()
		body = zr
	default:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported: send the body as is, or gzip-compressed with Content-Encoding: gzip", encoding))
		return nil, false
	}
	data, err := readAll((*buf)[:0], io.LimitReader(body, limit+1))
	*buf = data
	switch {
	case err != nil && errors.As(err, new(*http.MaxBytesError)):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes; send smaller batches", limit))
		return nil, false
	case err != nil && encoding != "" && encoding != "identity":
		writeError(w, http.StatusBadRequest, "the gzip body is damaged: "+err.Error())
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "could not read the body: "+err.Error())
		return nil, false
	case int64(len(data)) > limit:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes once decompressed; send smaller batches", limit))
		return nil, false
	}
	return data, true
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readAll is io.ReadAll into b's storage.
func readAll(b []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(b[:0])
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

func writeAPIError(w http.ResponseWriter, err error) {
	var ae *predictapi.Error
	if errors.As(err, &ae) {
		writeError(w, ae.Status, ae.Message)
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// records reads a body of policy records and the champion to score them
// with; ok is false when it has answered the request itself.
func (f *Function) records(w http.ResponseWriter, r *http.Request) (records []schema.PolicyRecord, cur *loaded, ok bool) {
	buf := buffers.Get().(*[]byte)
	defer putBuffer(buf) // the records hold copies of the body's strings
	body, ok := f.readJSON(w, r, buf)
	if !ok {
		return nil, nil, false
	}
	records, err := predictapi.DecodePredict(body, predictapi.Limits{MaxRecords: f.cfg.MaxRecords})
	if err != nil {
		writeAPIError(w, err)
		return nil, nil, false
	}
	if cur = f.current.Load(); cur == nil {
		writeError(w, http.StatusServiceUnavailable, "no champion loaded yet; train and register a model first")
		return nil, nil, false
	}
	return records, cur, true
}

func (f *Function) predict(w http.ResponseWriter, r *http.Request) {
	records, cur, ok := f.records(w, r)
	if !ok {
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond) // the log's precision, so predicted_at matches it
	resp := predictapi.PredictResponse{
		RequestID:   requestID(),
		PredictedAt: now,
		Model:       predictapi.ModelRef{Name: model.Name, Version: cur.version.Version},
		Predictions: make([]predictapi.Prediction, len(records)),
	}
	rows := make([]predlog.Row, len(records))
	design := cur.model.Design()
	for i, rec := range records {
		acc := design.AccidentFor(rec)
		p := cur.model.Predict(rec)
		band := model.Band(p)
		resp.Predictions[i] = predictapi.Prediction{PolicyID: rec.PolicyID, ClaimProbability: p, RiskBand: band}
		logged := rec
		logged.PolicyID, logged.CustomerID = f.pseudo.Of(rec.PolicyID), f.pseudo.Of(rec.CustomerID)
		rows[i] = predlog.Row{Time: now, RequestID: resp.RequestID, ModelVersion: int32(cur.version.Version), PolicyRecord: logged,
			CrashRate: acc.CrashRate, InjuryShare: acc.InjuryShare, Probability: p, Band: band}
		f.metrics.probability(p)
	}
	if err := f.predictions.Add(rows...); err != nil {
		writeError(w, http.StatusServiceUnavailable, "the payload log cannot keep up (the bucket is not accepting writes); try again shortly")
		return
	}
	f.scoreShadow(rows, records, cur)
	f.metrics.predictions(cur.version.Version, len(records))
	writePrediction(w, resp)
}

func (f *Function) postFeedback(w http.ResponseWriter, r *http.Request) {
	buf := buffers.Get().(*[]byte)
	defer putBuffer(buf)
	body, ok := f.readJSON(w, r, buf)
	if !ok {
		return
	}
	outcomes, err := predictapi.DecodeFeedback(body, predictapi.Limits{MaxRecords: f.cfg.MaxRecords})
	if err != nil {
		writeAPIError(w, err)
		return
	}
	now := time.Now().UTC()
	rows := make([]predlog.Feedback, len(outcomes))
	for i, o := range outcomes {
		rows[i] = predlog.Feedback{Time: now, RequestID: o.RequestID, Claim: boolInt(*o.Claim)}
		if o.PolicyID != "" {
			rows[i].PolicyID = f.pseudo.Of(o.PolicyID)
		}
		if o.PredictedAt != nil {
			rows[i].PredictedAt = o.PredictedAt.UTC().Truncate(time.Millisecond)
		}
	}
	if err := f.feedback.Add(rows...); err != nil {
		writeError(w, http.StatusServiceUnavailable, "the feedback log cannot keep up; try again shortly")
		return
	}
	writeJSON(w, http.StatusOK, predictapi.FeedbackResponse{Accepted: len(rows)})
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func (f *Function) modelInfo(w http.ResponseWriter, _ *http.Request) {
	cur := f.current.Load()
	if cur == nil {
		writeError(w, http.StatusServiceUnavailable, "no champion loaded yet")
		return
	}
	info := predictapi.ModelInfo{
		Name: model.Name, Version: cur.version.Version, Alias: registry.Champion, Kind: cur.version.Kind,
		RunID: cur.version.Lineage.RunID, Metrics: cur.version.Metrics, LoadedAt: cur.loadedAt,
	}
	if s := f.regStatus.Load(); s != nil {
		info.Registry = *s
	}
	if sh := f.shadow.Load(); sh != nil {
		info.Shadow = &predictapi.ModelRef{Name: model.Name, Version: sh.version.Version}
	}
	writeJSON(w, http.StatusOK, info)
}

// explain decomposes each record's prediction exactly; explanations are
// for review and are not part of the monitored traffic.
func (f *Function) explain(w http.ResponseWriter, r *http.Request) {
	records, cur, ok := f.records(w, r)
	if !ok {
		return
	}
	resp := predictapi.ExplainResponse{
		RequestID: requestID(),
		Model:     predictapi.ModelRef{Name: model.Name, Version: cur.version.Version},
		Reference: "the average policy of the training data: every feature at its training mean; its logit is the intercept",
	}
	for _, rec := range records {
		resp.Explanations = append(resp.Explanations, governance.Explain(cur.model, rec))
	}
	writeJSON(w, http.StatusOK, resp)
}

// card serves the champion's factsheet.
func (f *Function) card(w http.ResponseWriter, r *http.Request) {
	cur := f.current.Load()
	if cur == nil {
		writeError(w, http.StatusServiceUnavailable, "no champion loaded yet")
		return
	}
	format, ct := "md", "text/markdown; charset=utf-8"
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		format, ct = "html", "text/html; charset=utf-8"
	}
	data, err := f.reg.Factsheet(r.Context(), cur.version.Version, format)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "the factsheet of the champion cannot be read: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(data)
}

// event takes a "model promoted" CloudEvent, or the drift schedule's cron
// event, and looks at the registry now: the cron event makes predict
// reconcile with the registry even when a promotion event was lost.
func (f *Function) event(w http.ResponseWriter, r *http.Request) {
	e, ref := funcmain.ReadEvent(w, r)
	if ref != nil {
		writeError(w, ref.Status, ref.Reason)
		return
	}
	if err := f.signer.Verify(*e); err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if err := events.CheckEvent(*e, time.Now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch e.Type() {
	case events.ModelPromoted:
		f.log.Info("promotion announced; reloading the champion", "event_id", e.ID())
	case events.Ping:
		f.log.Debug("cron event; looking at the registry", "event_id", e.ID())
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unsupported event type %q; want %s or %s", e.Type(), events.ModelPromoted, events.Ping))
		return
	}
	f.requestReload()
	w.WriteHeader(http.StatusAccepted)
}

// flush writes the buffered payload-log and feedback rows now, for a
// person or a simulation that wants the drift check to see them at once.
func (f *Function) flush(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	pending := f.predictions.Pending() + f.feedback.Pending() + f.shadowLog.Pending()
	if err := errors.Join(f.predictions.Flush(ctx), f.feedback.Flush(ctx), f.shadowLog.Flush(ctx)); err != nil {
		writeError(w, http.StatusServiceUnavailable, "could not write the buffered rows: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"written_rows": pending})
}

func (f *Function) openapi(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, predictapi.Document(f.cfg.MaxRecords, f.cfg.APIToken != ""))
}

func (f *Function) docs(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = predictapi.RenderHTML(w, predictapi.Document(f.cfg.MaxRecords, f.cfg.APIToken != ""))
}
