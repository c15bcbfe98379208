package events

import (
	"fmt"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/metrics"
)

// Entry describes one event type: who sends it, who receives it, and an
// example of its data. The docs' event catalogue, the deployment tests and
// the table of functions (shared/fnspec) read this list; a new event type,
// or a function that starts sending or receiving one, is added here.
type Entry struct {
	Type   string
	Source string
	// Producer is the function that sends the type, by name, or a
	// description of whatever else sends it.
	Producer string
	// Consumers are the Knative Services the Triggers deliver the type to,
	// each written NAME or NAME (ATTR=VALUE) when its Trigger also filters
	// on an extension attribute; ParseConsumer reads one.
	Consumers   []string
	Description string
	Example     any
}

// Consumer is one of an Entry's Consumers, read.
type Consumer struct {
	// Service is the Knative Service, a function's name.
	Service string
	// Attr and Value are the extension attribute the Trigger filters on
	// besides the type, or both empty.
	Attr, Value string
}

// ParseConsumer reads one of an Entry's Consumers: "train" or
// "drift (check=drift)".
func ParseConsumer(s string) (Consumer, error) {
	name, filter, filtered := strings.Cut(s, " (")
	c := Consumer{Service: name}
	if filtered {
		inner, ok := strings.CutSuffix(filter, ")")
		attr, value, hasEq := strings.Cut(inner, "=")
		if !ok || !hasEq || !lowerAlnum(attr, false) || value == "" || strings.ContainsAny(value, "()") {
			return Consumer{}, fmt.Errorf("events: consumer %q: want NAME or NAME (ATTR=VALUE)", s)
		}
		c.Attr, c.Value = attr, value
	}
	if !lowerAlnum(name, true) {
		return Consumer{}, fmt.Errorf("events: consumer %q: the Service name must be lowercase letters, digits and dashes", s)
	}
	return c, nil
}

// lowerAlnum reports whether s is a non-empty run of lowercase letters and
// digits, and dashes when dash is set.
func lowerAlnum(s string, dash bool) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && (!dash || r != '-') {
			return false
		}
	}
	return s != ""
}

// Catalogue lists every event type claimrisk sends or receives.
var Catalogue = []Entry{
	{
		Type: DatasetUploaded, Source: SourceCLI, Producer: "claimrisk data upload (any writer of a dataset)", Consumers: []string{"train"},
		Description: "A dataset was written to the bucket under datasets/<id>/, the manifest last. Sent only after the write succeeded: the portable storage event.",
		Example: DatasetUploadedData{Bucket: "file:///home/you/.claimrisk/bucket", DatasetID: "c868cee26679f17d", Fingerprint: exampleFingerprint,
			Manifest: "datasets/c868cee26679f17d/manifest.json", Objects: []ObjectRef{
				{Key: "datasets/c868cee26679f17d/customers.parquet", Size: 223234, SHA256: "ecc949dc335ade49651d9c75deb8e90b6d57c6b180da7ebeedb126fb917fc9e3"},
				{Key: "datasets/c868cee26679f17d/policies.parquet", Size: 922886, SHA256: "4d8e8772c8cf2ec31b76a2ad1a1678b1ba13cb6acc4726a309907f40fa032b68"},
				{Key: "datasets/c868cee26679f17d/claims.parquet", Size: 84254, SHA256: "964e952685d463142a268d8f3808871901b5737e3f425453f4b48bd26a2f4347"},
				{Key: "datasets/c868cee26679f17d/accidents.parquet", Size: 13105, SHA256: "cf2fd5879e128732f809c52875965d49bab55045f354425fb6b4d73ce4287a3a"},
			}},
	},
	{
		Type: ModelTrained, Source: SourceTrain, Producer: "train", Consumers: []string{"register"},
		Description: "A training finished: the best of its candidates (the legacy formula, a GLM without and one with accident data) by out-of-time Gini, with every candidate's figures.",
		Example: ModelTrainedData{Bucket: "file:///home/you/.claimrisk/bucket", RunID: "run-67c762333143", Kind: "glm-accident",
			ModelKey: "runs/run-67c762333143/model.json", RunKey: "runs/run-67c762333143/run.json", DatasetID: "c868cee26679f17d",
			Fingerprint: exampleFingerprint, Validation: "runs/run-67c762333143/validation.parquet", CodeVersion: "c34e5318ebc0", Trigger: DatasetUploaded,
			Metrics: exampleSummary(10000, 1034, 0.7030, 0.4061, 0.3085, 0.0881, 0.1082, 0.1034,
				0.0276, 0.0210, 0.0414, 0.0380, 0.0528, 0.0540, 0.0657, 0.0580, 0.0811, 0.0680,
				0.0990, 0.1010, 0.1206, 0.1180, 0.1468, 0.1510, 0.1813, 0.1800, 0.2658, 0.2450),
			Candidates: []Candidate{
				{RunID: "run-67c762333143", Kind: "glm-accident", AUC: 0.7030, Gini: 0.4061, LogLoss: 0.3085, Brier: 0.0881},
				{RunID: "run-480699f7a923", Kind: "glm-base", AUC: 0.6287, Gini: 0.2573, LogLoss: 0.3229, Brier: 0.0909},
				{RunID: "run-6bb9920d8321", Kind: "legacy", AUC: 0.6109, Gini: 0.2217, LogLoss: 0.3255, Brier: 0.0914},
			}},
	},
	{
		Type: ModelPromoted, Source: SourceRegister, Producer: "register", Consumers: []string{"predict"},
		Description: "The registry's champion alias moved to a new version; the prediction API loads it.",
		Example: Decision{Bucket: "file:///home/you/.claimrisk/bucket", Model: "claim-risk", Version: 2, RunID: "run-d9fd7544d9c4", Promoted: true, ChampionVersion: 1,
			Reason: "log loss 0.4035 is 3.2% below champion v1's 0.4170 (margin 1.0%), with a Gini of 0.4182 against 0.4180 (tolerance 0.03), on the same 1500 policies",
			ChallengerMetrics: exampleSummary(1500, 242, 0.7091, 0.4182, 0.4035, 0.1247, 0.1686, 0.1613,
				0.0461, 0.0333, 0.0673, 0.0533, 0.0869, 0.0600, 0.1067, 0.1467, 0.1280, 0.0933,
				0.1554, 0.1533, 0.1896, 0.1867, 0.2300, 0.2733, 0.2815, 0.2200, 0.3945, 0.3933),
			ChampionMetrics: ptr(exampleSummary(1500, 242, 0.7090, 0.4180, 0.4170, 0.1283, 0.1083, 0.1613,
				0.0273, 0.0400, 0.0402, 0.0400, 0.0522, 0.0867, 0.0643, 0.1267, 0.0783, 0.1067,
				0.0960, 0.1133, 0.1188, 0.2200, 0.1462, 0.2400, 0.1841, 0.2467, 0.2758, 0.3933))},
	},
	{
		Type: ModelRejected, Source: SourceRegister, Producer: "register", Consumers: nil,
		Description: "A challenger was registered but did not replace the champion; the reason says why. Nothing subscribes: it is for people and the event log.",
		Example: Decision{Bucket: "file:///home/you/.claimrisk/bucket", Model: "claim-risk", Version: 3, RunID: "run-b571f735bdd6", Promoted: false, ChampionVersion: 2,
			Reason: "v3 was validated on data up to 2024-12-31, older than champion v2's (its event arrived late)",
			ChallengerMetrics: exampleSummary(5000, 504, 0.7024, 0.4048, 0.3033, 0.0862, 0.0901, 0.1008,
				0.0199, 0.0140, 0.0359, 0.0400, 0.0486, 0.0480, 0.0593, 0.0640, 0.0706, 0.0840,
				0.0834, 0.0960, 0.0986, 0.1060, 0.1179, 0.1260, 0.1477, 0.1740, 0.2193, 0.2560)},
	},
	{
		Type: DriftDetected, Source: SourceDrift, Producer: "drift", Consumers: []string{"train"},
		Description: "A drift check crossed its thresholds. The train function retrains on the champion's dataset plus the window's labelled predictions.",
		Example: DriftDetectedData{Bucket: "file:///home/you/.claimrisk/bucket", ReportKey: "drift/reports/20261203T230130.006Z/report.json", ChampionVersion: 1,
			WindowFrom: time.Date(2026, 12, 3, 23, 1, 29, 458e6, time.UTC), WindowTo: time.Date(2026, 12, 3, 23, 1, 30, 6e6, time.UTC),
			DriftedColumns: []DriftedColumn{}, // the accident spike moves no input column: concept drift
			Reasons:        []string{"observed claim rate 0.1667 vs mean prediction 0.1095 on 3000 labelled predictions: a gap of 0.0572, more than 0.0200"},
			RulesFired:     []string{"quality"},
			LabelledKey:    "drift/reports/20261203T230130.006Z/labelled.parquet"},
	},
	{
		Type: Ping, Source: "/apis/v1/namespaces/claimrisk/pingsources/<name>", Producer: "PingSource drift-schedule, dataset-scan and shadow-schedule (claimrisk up's cron locally)",
		Consumers:   []string{"drift (check=drift)", "predict (check=drift)", "train (check=datasets)", "register (check=datasets)", "register (check=shadow)"},
		Description: "The cron event. The extension attribute check tells the schedules apart: check=drift asks for a drift check, and predict looks at the registry's champion; check=datasets asks train to scan the bucket for datasets no one announced (or whose training stopped), and register to judge every finished training that has no decision; check=shadow asks register to judge the challenger on its shadow traffic with outcomes. With these, a lost event delays its work by one schedule; nothing depends on the Broker's channel keeping events.",
		Example:     map[string]string{"check": "drift"},
	},
}

// The catalogue's examples are the data of events from one run of the
// workshop's story (seed 42): the dataset of lab 2, its training, the
// retraining after the accident spike of lab 5, and the dataset scan of lab 6.
const exampleFingerprint = "c868cee26679f17d8ff918d8f0ef033acef7735df397b26a98753f090ea9a02d"

// exampleSummary builds a metrics summary; bins are pairs of mean predicted
// probability and observed rate, one per decile of n/10 policies.
func exampleSummary(n, positives int, auc, gini, logLoss, brier, meanPredicted, observed float64, bins ...float64) metrics.Summary {
	s := metrics.Summary{N: n, Positives: positives, AUC: auc, Gini: gini, LogLoss: logLoss, Brier: brier, MeanPredicted: meanPredicted, ObservedRate: observed}
	for i := 0; i+1 < len(bins); i += 2 {
		s.Calibration = append(s.Calibration, metrics.Bin{N: n / 10, MeanPredicted: bins[i], ObservedRate: bins[i+1]})
	}
	return s
}

func ptr[T any](v T) *T { return &v }
