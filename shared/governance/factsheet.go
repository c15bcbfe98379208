package governance

import (
	"bytes"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/claimrisk/claimrisk/shared/metrics"
)

// Purpose, use and limits of the claim-risk model, stated once.
const (
	Purpose     = "Estimate the probability that a private car policy has at least one claim in its policy year."
	IntendedUse = "Risk assessment in pricing and underwriting review of private car policies for customers living in the City of Chicago's police districts, alongside a person's judgement. Not for claims handling, fraud decisions or any decision about an individual without review."
)

// Limitations every factsheet states.
var Limitations = []string{
	"Trained on the insurer's own portfolio: it knows the districts, vehicles and covers that portfolio holds, and nothing outside them.",
	"The accident features are the crash rates of the customer's home district in the twelve months before training ended; where customers drive elsewhere, or rates have moved since, the model is less accurate.",
	"The probability is calibrated to the claim rate of the training years; a change in claim rates (see the drift reports) needs a retraining.",
	"The protected attribute (sex) is not a feature, but features correlated with it can still move predictions apart between groups: see the fairness figures and the drift reports.",
	"A generalised linear model: effects are additive on the logit scale, with the non-linearities its features spell out (age bands, logarithms); interactions it was not given it cannot learn.",
}

// Feature is a model feature with its coefficient, for the factsheet.
type Feature struct {
	Name        string  `json:"name"`
	Coefficient float64 `json:"coefficient"`
}

// Event is one entry of a version's promotion history.
type Event struct {
	Time   time.Time `json:"time"`
	What   string    `json:"what"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
}

// Factsheet documents one model version for people who must answer for it.
type Factsheet struct {
	Model          string          `json:"model"`
	Version        int             `json:"version"`
	Kind           string          `json:"kind"`
	Created        time.Time       `json:"created"`
	CreatedBy      string          `json:"created_by"`
	Description    string          `json:"description"`
	Purpose        string          `json:"purpose"`
	IntendedUse    string          `json:"intended_use"`
	Limitations    []string        `json:"limitations"`
	RunID          string          `json:"run_id"`
	MLflowRunID    string          `json:"mlflow_run_id,omitempty"`
	DatasetID      string          `json:"dataset_id"`
	Fingerprint    string          `json:"data_fingerprint"`
	AccidentSource string          `json:"accident_source"`
	TrainFrom      time.Time       `json:"train_from"`
	TrainTo        time.Time       `json:"train_to"`
	TrainRows      int             `json:"train_rows"`
	ValidFrom      time.Time       `json:"valid_from"`
	ValidTo        time.Time       `json:"valid_to"`
	ValidRows      int             `json:"valid_rows"`
	LabelledKey    string          `json:"labelled_key,omitempty"`
	Trigger        string          `json:"trigger"`
	CodeVersion    string          `json:"code_version"`
	L2             float64         `json:"l2"`
	Intercept      float64         `json:"intercept"`
	Features       []Feature       `json:"features"`
	Validation     metrics.Summary `json:"validation"`
	Slices         []Slice         `json:"slices"`
	Fairness       *Fairness       `json:"fairness,omitempty"`
	Aliases        []string        `json:"aliases"`
	Status         string          `json:"status"`
	History        []Event         `json:"history"`
	// Production is the model's performance window by window since it
	// served: estimated from its predictions alone, and realised where the
	// outcomes have arrived. ProductionPlot is the same as a PNG data URI.
	Production     []ProductionWindow `json:"production"`
	ProductionPlot htmltemplate.URL   `json:"-"`
	Generated      time.Time          `json:"generated"`
}

// ProductionWindow is one checked window of the model in production.
type ProductionWindow struct {
	Report       string    `json:"report"`
	WindowTo     time.Time `json:"window_to"`
	Rows         int       `json:"rows"`
	EstimatedAUC *float64  `json:"estimated_auc"`
	Lower        *float64  `json:"estimated_auc_lower"`
	Upper        *float64  `json:"estimated_auc_upper"`
	Alarm        bool      `json:"estimate_alarm"`
	LabelledRows int       `json:"labelled_rows"`
	RealisedAUC  *float64  `json:"realised_auc"`
}

var funcs = map[string]any{
	"date": func(t time.Time) string { return t.Format("2006-01-02") },
	"when": func(t time.Time) string { return t.Format("2006-01-02 15:04 MST") },
	"f4":   func(v float64) string { return ftoa(v, 4) },
	"f3":   func(v float64) string { return ftoa(v, 3) },
	"opt": func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return ftoa(*p, 4)
	},
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
}

func ftoa(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

var markdownTmpl = template.Must(template.New("md").Funcs(funcs).Parse(`# Factsheet: {{.Model}} v{{.Version}}

{{.Description}}

| | |
|---|---|
| status | {{.Status}}{{if .Aliases}} ({{join .Aliases ", "}}){{end}} |
| kind | {{.Kind}} |
| registered | {{when .Created}} by {{.CreatedBy}} |
| training run | {{.RunID}}{{if .MLflowRunID}} (MLflow run {{.MLflowRunID}}){{end}} |
| code version | {{.CodeVersion}} |

## Purpose and intended use

{{.Purpose}}

{{.IntendedUse}}

## Known limitations
{{range .Limitations}}
- {{.}}{{end}}

## Training data

| | |
|---|---|
| dataset | {{.DatasetID}} (fingerprint {{.Fingerprint}}) |
| accident data | {{.AccidentSource}} |
| trained on | {{.TrainRows}} policies starting {{date .TrainFrom}} to {{date .TrainTo}} |
| validated out of time on | {{.ValidRows}} policies starting {{date .ValidFrom}} to {{date .ValidTo}} |{{if .LabelledKey}}
| newly labelled predictions | {{.LabelledKey}} |{{end}}
| trigger | {{.Trigger}} |

## Parameters

Logistic GLM, L2 penalty {{.L2}} on standardised features; intercept {{f4 .Intercept}}.

| feature | coefficient |
|---|---|
{{range .Features}}| {{.Name}} | {{f4 .Coefficient}} |
{{end}}
## Validation (out of time)

AUC {{f4 .Validation.AUC}}, Gini {{f4 .Validation.Gini}}, log loss {{f4 .Validation.LogLoss}}, Brier {{f4 .Validation.Brier}}; mean predicted probability {{f4 .Validation.MeanPredicted}} against an observed claim rate of {{f4 .Validation.ObservedRate}} on {{.Validation.N}} policies.

| decile | policies | mean predicted | observed |
|---|---|---|---|
{{range $i, $b := .Validation.Calibration}}| {{inc $i}} | {{$b.N}} | {{f4 $b.MeanPredicted}} | {{f4 $b.ObservedRate}} |
{{end}}
### By slice

| dimension | slice | policies | Gini | mean predicted | observed |
|---|---|---|---|---|---|
{{range .Slices}}| {{.Dimension}} | {{.Slice}} | {{.N}} | {{if .Scored}}{{f3 .Gini}}{{else}}n/a{{end}} | {{f4 .MeanPredicted}} | {{f4 .ObservedRate}} |
{{end}}
## Fairness
{{with .Fairness}}
By {{.Attribute}}, which is never a model feature. Disparate impact (mean predicted probability of {{.Protected}} over {{.Reference}}): **{{f3 .DisparateImpact}}**, allowed [{{.Lower}}, {{.Upper}}]{{if .Flagged}}: **flagged**{{end}}. Error rates count a policy as flagged high risk from a probability of {{.Threshold}}.

| group | policies | mean predicted | observed | calibration gap | false positive rate | true positive rate |
|---|---|---|---|---|---|---|
{{range .Groups}}| {{.Group}} | {{.N}} | {{f4 .MeanPredicted}} | {{opt .ObservedRate}} | {{opt .CalibrationGap}} | {{opt .FalsePositiveRate}} | {{opt .TruePositiveRate}} |
{{end}}{{if .Note}}
{{.Note}}
{{end}}{{else}}
No fairness figures: the validation rows carry no protected attribute.
{{end}}
## Performance in production
{{if .Production}}
ROC AUC per drift-check window: estimated from the predictions alone (CBPE, with its band of three sampling errors), and realised once enough outcomes have arrived, however late.

| window ending | predictions | estimated AUC | band | labelled | realised AUC |
|---|---|---|---|---|---|
{{range .Production}}| {{when .WindowTo}} | {{.Rows}} | {{opt .EstimatedAUC}}{{if .Alarm}} **alarm**{{end}} | {{opt .Lower}} to {{opt .Upper}} | {{.LabelledRows}} | {{opt .RealisedAUC}} |
{{end}}{{else}}
No drift check has looked at this version's traffic yet.
{{end}}
## Promotion history
{{range .History}}
- {{when .Time}}: {{.What}} by {{.Actor}}{{if .Reason}}: {{.Reason}}{{end}}{{end}}

_Generated {{when .Generated}}._
`))

// Markdown renders the factsheet as Markdown.
func (f Factsheet) Markdown() (string, error) {
	var b bytes.Buffer
	err := markdownTmpl.Execute(&b, f)
	return b.String(), err
}

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Factsheet: {{.Model}} v{{.Version}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1.2rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}
.flag{color:#b00;font-weight:bold}.muted{color:#666}
</style></head><body>
<h1>Factsheet: {{.Model}} v{{.Version}}</h1>
<p>{{.Description}}</p>
<table>
<tr><th>status</th><td>{{.Status}}{{if .Aliases}} ({{join .Aliases ", "}}){{end}}</td></tr>
<tr><th>kind</th><td>{{.Kind}}</td></tr>
<tr><th>registered</th><td>{{when .Created}} by {{.CreatedBy}}</td></tr>
<tr><th>training run</th><td>{{.RunID}}{{if .MLflowRunID}} (MLflow run {{.MLflowRunID}}){{end}}</td></tr>
<tr><th>code version</th><td>{{.CodeVersion}}</td></tr>
</table>
<h2>Purpose and intended use</h2><p>{{.Purpose}}</p><p>{{.IntendedUse}}</p>
<h2>Known limitations</h2><ul>{{range .Limitations}}<li>{{.}}</li>{{end}}</ul>
<h2>Training data</h2>
<table>
<tr><th>dataset</th><td>{{.DatasetID}} <span class="muted">(fingerprint {{.Fingerprint}})</span></td></tr>
<tr><th>accident data</th><td>{{.AccidentSource}}</td></tr>
<tr><th>trained on</th><td>{{.TrainRows}} policies starting {{date .TrainFrom}} to {{date .TrainTo}}</td></tr>
<tr><th>validated out of time on</th><td>{{.ValidRows}} policies starting {{date .ValidFrom}} to {{date .ValidTo}}</td></tr>
{{if .LabelledKey}}<tr><th>newly labelled predictions</th><td>{{.LabelledKey}}</td></tr>{{end}}
<tr><th>trigger</th><td>{{.Trigger}}</td></tr>
</table>
<h2>Parameters</h2><p>Logistic GLM, L2 penalty {{.L2}} on standardised features; intercept {{f4 .Intercept}}.</p>
<table><tr><th>feature</th><th>coefficient</th></tr>{{range .Features}}<tr><td>{{.Name}}</td><td>{{f4 .Coefficient}}</td></tr>{{end}}</table>
<h2>Validation (out of time)</h2>
<p>AUC {{f4 .Validation.AUC}}, Gini {{f4 .Validation.Gini}}, log loss {{f4 .Validation.LogLoss}}, Brier {{f4 .Validation.Brier}}; mean predicted probability {{f4 .Validation.MeanPredicted}} against an observed claim rate of {{f4 .Validation.ObservedRate}} on {{.Validation.N}} policies.</p>
<table><tr><th>decile</th><th>policies</th><th>mean predicted</th><th>observed</th></tr>{{range $i, $b := .Validation.Calibration}}<tr><td>{{inc $i}}</td><td>{{$b.N}}</td><td>{{f4 $b.MeanPredicted}}</td><td>{{f4 $b.ObservedRate}}</td></tr>{{end}}</table>
<h3>By slice</h3>
<table><tr><th>dimension</th><th>slice</th><th>policies</th><th>Gini</th><th>mean predicted</th><th>observed</th></tr>{{range .Slices}}<tr><td>{{.Dimension}}</td><td>{{.Slice}}</td><td>{{.N}}</td><td>{{if .Scored}}{{f3 .Gini}}{{else}}n/a{{end}}</td><td>{{f4 .MeanPredicted}}</td><td>{{f4 .ObservedRate}}</td></tr>{{end}}</table>
<h2>Fairness</h2>
{{with .Fairness}}<p>By {{.Attribute}}, which is never a model feature. Disparate impact (mean predicted probability of {{.Protected}} over {{.Reference}}): <b{{if .Flagged}} class="flag"{{end}}>{{f3 .DisparateImpact}}</b>, allowed [{{.Lower}}, {{.Upper}}]{{if .Flagged}} <span class="flag">flagged</span>{{end}}. Error rates count a policy as flagged high risk from a probability of {{.Threshold}}.</p>
<table><tr><th>group</th><th>policies</th><th>mean predicted</th><th>observed</th><th>calibration gap</th><th>false positive rate</th><th>true positive rate</th></tr>{{range .Groups}}<tr><td>{{.Group}}</td><td>{{.N}}</td><td>{{f4 .MeanPredicted}}</td><td>{{opt .ObservedRate}}</td><td>{{opt .CalibrationGap}}</td><td>{{opt .FalsePositiveRate}}</td><td>{{opt .TruePositiveRate}}</td></tr>{{end}}</table>{{if .Note}}<p>{{.Note}}</p>{{end}}
{{else}}<p>No fairness figures: the validation rows carry no protected attribute.</p>{{end}}
<h2>Performance in production</h2>
{{if .Production}}<p>ROC AUC per drift-check window: estimated from the predictions alone (CBPE, with its band of three sampling errors), and realised once enough outcomes have arrived, however late.</p>
{{if .ProductionPlot}}<p><img alt="Estimated and realised ROC AUC per window" src="{{.ProductionPlot}}"></p>{{end}}
<table><tr><th>window ending</th><th>predictions</th><th>estimated AUC</th><th>band</th><th>labelled</th><th>realised AUC</th></tr>{{range .Production}}<tr><td>{{when .WindowTo}}</td><td>{{.Rows}}</td><td>{{opt .EstimatedAUC}}{{if .Alarm}} <span class="flag">alarm</span>{{end}}</td><td>{{opt .Lower}} to {{opt .Upper}}</td><td>{{.LabelledRows}}</td><td>{{opt .RealisedAUC}}</td></tr>{{end}}</table>
{{else}}<p>No drift check has looked at this version's traffic yet.</p>{{end}}
<h2>Promotion history</h2><ul>{{range .History}}<li>{{when .Time}}: {{.What}} by {{.Actor}}{{if .Reason}}: {{.Reason}}{{end}}</li>{{end}}</ul>
<p class="muted">Generated {{when .Generated}}.</p>
</body></html>
`))

// HTML renders the factsheet as a page.
func (f Factsheet) HTML() (string, error) {
	var b bytes.Buffer
	err := htmlTmpl.Execute(&b, f)
	return b.String(), err
}
