package schema

import (
	"encoding/json"
	"time"
)

// DeviceMetric is one measurement of one device at one time, named as AWS
// IoT Device Defender names its metrics ("aws:num-listening-tcp-ports",
// "aws:destination-ip-addresses", …). Value holds counts and numbers; List
// holds the ports, addresses or CIDRs of list-valued metrics. The record
// id is (tenant, device, name, time).
type DeviceMetric struct {
	Tenant string    `json:"tenant,omitempty"`
	Device string    `json:"device"`
	Asset  string    `json:"asset,omitempty"` // the device's asset, from enrichment
	Time   time.Time `json:"time"`
	Name   string    `json:"name"`
	Value  float64   `json:"value"`
	List   []string  `json:"list,omitempty"`
}

// Device is one entry of the device inventory; the id stays stable across
// address changes. Attributes is the rest of the profile (hostnames,
// vendor, OS guess, services, peers, evidence), kept as JSON so the
// inventory can grow without a store migration.
type Device struct {
	ID         string          `json:"id"`
	Tenant     string          `json:"tenant,omitempty"`
	FirstSeen  time.Time       `json:"first_seen"`
	LastSeen   time.Time       `json:"last_seen"`
	MACs       []string        `json:"macs,omitempty"`
	IPs        []string        `json:"ips,omitempty"`
	Category   string          `json:"category,omitempty"`
	Risk       float64         `json:"risk,omitempty"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

// Finding is what a detector reports. State is active, cleared,
// acknowledged or false_positive; DedupeKey folds repeats of one finding.
type Finding struct {
	ID        string          `json:"id"`
	Tenant    string          `json:"tenant,omitempty"`
	Time      time.Time       `json:"time"`
	Detector  string          `json:"detector"`
	Rule      string          `json:"rule"`
	Severity  string          `json:"severity"`
	Entities  []string        `json:"entities,omitempty"`
	Evidence  json.RawMessage `json:"evidence,omitempty"`
	State     string          `json:"state"`
	DedupeKey string          `json:"dedupe_key"`
	Technique string          `json:"technique,omitempty"`
}
