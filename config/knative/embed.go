// Package knative embeds the Knative manifests of config/knative/base, so
// that `claimrisk up` routes events from the same Trigger files a cluster
// applies, not from a second copy.
package knative

import "embed"

// Base is the kustomize base: Services, Broker, Triggers and sources.
//
//go:embed base/*.yaml
var Base embed.FS
