// Package mlflow is a small client for MLflow's REST API (MLflow 3): the
// tracking calls training needs (experiments, runs, batched metrics and
// parameters, dataset inputs, artifacts through the server's proxy) and the
// model-registry calls that mirror claimrisk's registry (registered models,
// versions, tags and aliases). No maintained Go client exists; this package
// is the one place that knows MLflow's paths and payloads.
package mlflow
