package events

// Entry describes one event type: who sends it, who receives it, and an
// example of its data. The docs' event catalogue and the deployment tests
// read this list; a new event type is added here.
type Entry struct {
	Type        string
	Source      string
	Producer    string
	Consumers   []string
	Description string
	Example     any
}

// Catalogue lists every event type claimrisk sends or receives.
var Catalogue = []Entry{
	{
		Type: DatasetUploaded, Source: SourceCLI, Producer: "claimrisk data upload (any writer of a dataset)", Consumers: []string{"train"},
		Description: "A dataset was written to the bucket under datasets/<id>/, the manifest last. Sent only after the write succeeded: the portable storage event.",
		Example: DatasetUploadedData{Bucket: "file:///home/you/.claimrisk/bucket", DatasetID: "c868cee26679f17d", Fingerprint: "c868cee26679f17d8ff9...",
			Manifest: "datasets/c868cee26679f17d/manifest.json", Objects: []ObjectRef{{Key: "datasets/c868cee26679f17d/policies.parquet", Size: 922886, SHA256: "9f1c..."}}},
	},
	{
		Type: ModelTrained, Source: SourceTrain, Producer: "train", Consumers: []string{"register"},
		Description: "A training finished: the best of its candidates (the legacy formula, a GLM without and one with accident data) by out-of-time Gini, with every candidate's figures.",
		Example: ModelTrainedData{Bucket: "file:///home/you/.claimrisk/bucket", RunID: "run-1fda372b8876", Kind: "glm-accident",
			ModelKey: "runs/run-1fda372b8876/model.json", RunKey: "runs/run-1fda372b8876/run.json", DatasetID: "c868cee26679f17d",
			Validation: "runs/run-1fda372b8876/validation.parquet", CodeVersion: "9a5938c1e2f3", Trigger: DatasetUploaded,
			Candidates: []Candidate{{RunID: "run-1fda372b8876", Kind: "glm-accident", AUC: 0.703, Gini: 0.406, LogLoss: 0.3085, Brier: 0.0881}}},
	},
	{
		Type: ModelPromoted, Source: SourceRegister, Producer: "register", Consumers: []string{"predict"},
		Description: "The registry's champion alias moved to a new version; the prediction API loads it.",
		Example:     Decision{Bucket: "file:///home/you/.claimrisk/bucket", Model: "claim-risk", Version: 2, RunID: "run-97309fdbc823", Promoted: true, ChampionVersion: 1, Reason: "log loss 0.4035 is 3.2% below champion v1's 0.4170 ..."},
	},
	{
		Type: ModelRejected, Source: SourceRegister, Producer: "register", Consumers: nil,
		Description: "A challenger was registered but did not replace the champion; the reason says why. Nothing subscribes: it is for people and the event log.",
		Example:     Decision{Bucket: "file:///home/you/.claimrisk/bucket", Model: "claim-risk", Version: 3, RunID: "run-0c1d2e3f4a5b", Promoted: false, ChampionVersion: 2, Reason: "neither ranks better ... nor fits better ..."},
	},
	{
		Type: DriftDetected, Source: SourceDrift, Producer: "drift", Consumers: []string{"train"},
		Description: "A drift check crossed its thresholds. The train function retrains on the champion's dataset plus the window's labelled predictions.",
		Example: DriftDetectedData{Bucket: "file:///home/you/.claimrisk/bucket", ReportKey: "drift/reports/20261129T203519.266Z/report.json", ChampionVersion: 1,
			Reasons: []string{"observed claim rate 0.1667 vs mean prediction 0.1095 on 3000 labelled predictions ..."}, RulesFired: []string{"quality"}, LabelledKey: "drift/reports/20261129T203519.266Z/labelled.parquet"},
	},
	{
		Type: Ping, Source: "/apis/v1/namespaces/claimrisk/pingsources/<name>", Producer: "PingSource drift-schedule, dataset-scan and shadow-schedule (claimrisk up's cron locally)",
		Consumers:   []string{"drift (check=drift)", "predict (check=drift)", "train (check=datasets)", "register (check=datasets)", "register (check=shadow)"},
		Description: "The cron event. The extension attribute check tells the schedules apart: check=drift asks for a drift check, and predict looks at the registry's champion; check=datasets asks train to scan the bucket for datasets no one announced (or whose training stopped), and register to judge every finished training that has no decision; check=shadow asks register to judge the challenger on its shadow traffic with outcomes. With these, a lost event delays its work by one schedule; nothing depends on the Broker's channel keeping events.",
		Example:     map[string]string{"check": "drift"},
	},
}
