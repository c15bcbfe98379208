// Package registry is the model registry, kept in the bucket so that every
// function can read it without another server. It is the only code that
// knows the registry's layout:
//
//	registry/<model>/model.json                   the registered model
//	registry/<model>/versions/000007/version.json  version 7: model, metrics, lineage (immutable)
//	registry/<model>/versions/000007/decision.json the promotion decision about version 7
//	registry/<model>/claims/<run-id>/<n>.json      who is registering a run (idempotency)
//	registry/<model>/audit/00000012.json           alias move 12 (append-only)
//
// Every write that must not race is a create-if-absent (blobstore.Create):
// a version number is taken by creating its version.json, so two writers
// never get the same number; an alias moves by creating the next entry of
// the audit log, so moves are totally ordered and a mover that lost a race
// re-reads and decides again. An alias is whatever the latest audit entry
// for it says: one object, so a reader sees the old version or the new,
// never a mix. The MLflow model registry mirrors this one (mirror.go).
package registry
