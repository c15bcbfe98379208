// Package cluster is the end-to-end test of claimrisk on a real Kubernetes
// cluster with Knative Serving and Eventing: `make smoke` runs it (build
// tag cluster) against the cluster of `make cluster-up` after `make deploy`.
//
// Everything goes through Knative: the dataset is announced to the Broker,
// the Triggers deliver to train and register, predictions go through the
// ingress, a PingSource fires the drift check, the Evidently CronJob writes
// its report, a refused event is dead-lettered. Each step is asserted from
// the bucket, from MLflow's API and from the answers, and timed. Then the
// functions are left idle until Knative scales them to zero, and predict's
// cold starts through the activator are measured.
package cluster
