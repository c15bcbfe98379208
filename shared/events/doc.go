// Package events defines every CloudEvent claimrisk sends or receives: the
// type names, their sources, the payload structs, and a catalogue that the
// docs and the deployment tests read. It also sends events, checking the
// receiver's HTTP status, which the SDK's client does not always surface.
package events
