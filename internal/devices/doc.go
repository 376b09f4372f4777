// Package devices keeps the device inventory: every endpoint in the
// monitored networks that sessions show, under an id that survives
// address changes (asset id, else its MAC, else its address), with a
// bounded profile of what it is and does (addresses over time, names,
// vendor, fingerprints, services, peers, protocols) and an OS guess and
// a category derived from that profile by documented rules (rules.go,
// os.go, docs/devices.md).
//
// Observe runs on the ingest path and only updates counters and small
// bounded sets; the JSON profile (schema.Device.Attributes) is built by
// Devices and Changed.
package devices
