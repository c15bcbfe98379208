// Package fnspec is the table of claimrisk's functions: for each function
// under functions/, its name, its port under `claimrisk up`, its image, the
// path that says it has started, its configuration struct, and the event
// types it receives and sends.
//
// Every Go consumer of the list reads this table: localrun starts the
// functions in its order on its ports, the CLI's lab checker and `up` know
// the running system from it, the docs generator writes the configuration
// reference from its structs, and the tests of config/knative check that the
// Knative Services and func.yaml files say the same. The Makefile and
// containers/images.sh take the functions from the directory listing
// (functions/*/cmd/main.go), since they run before anything is built; a
// test here checks that the listing and the table agree.
//
// The table is a package of its own because localrun, the CLI, the docs
// generator and the Knative tests all read it and none of them should
// depend on another to do so. It imports only what it describes:
// shared/config for the configuration structs and shared/events, whose
// catalogue stays the one source of who sends and receives each event type;
// Accepts and Emits read it.
//
// Adding a function: its directory (func.yaml, function.go, cmd/main.go), a
// row here, its Knative Service in config/knative/base (and that
// directory's kustomization.yaml), and `make docs-reference` for the
// configuration page. Its events, if any, go into the events catalogue and
// config/knative/base/triggers.yaml.
package fnspec
