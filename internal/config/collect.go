package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/osprey-ndr/osprey/internal/collect/defender"
	"github.com/osprey-ndr/osprey/internal/collect/netflow"
	"github.com/osprey-ndr/osprey/internal/collect/objects"
)

// Collect configures the collectors osprey run starts
// (docs/collectors.md). Each embeds its component's own configuration,
// whose defaults and checks it keeps.
type Collect struct {
	// DeadLetter is a JSON-lines file that keeps every rejected line,
	// record and report with its source, position and reason; "" keeps
	// only the counts and the log.
	DeadLetter string   `yaml:"dead_letter"`
	FlowLogs   FlowLogs `yaml:"flow_logs"`
	NetFlow    NetFlow  `yaml:"netflow"`
	Defender   Defender `yaml:"defender"`
}

// FlowLogs are cloud flow-log files, directories and S3 prefixes; on when
// any path or bucket is set.
type FlowLogs struct {
	objects.Config `yaml:",inline"`
	// Format forces vpc, vpc-parquet, azure or gcp; "" detects each file's.
	Format string `yaml:"format"`
	// Fields is the VPC custom format of text files without a header line.
	Fields []string `yaml:"fields"`
}

// Enabled reports whether any flow-log source is set.
func (f FlowLogs) Enabled() bool { return len(f.Paths) > 0 || len(f.S3) > 0 }

// NetFlow is the NetFlow/IPFIX/sFlow listener.
type NetFlow struct {
	Enabled        bool `yaml:"enabled"`
	netflow.Config `yaml:",inline"`
}

// Defender receives AWS IoT Device Defender metrics over MQTT and HTTP,
// and reads cloud-side metric feeds.
type Defender struct {
	Enabled         bool `yaml:"enabled"`
	defender.Config `yaml:",inline"`
}

func defaultCollect() Collect {
	return Collect{
		FlowLogs: FlowLogs{Config: objects.DefaultConfig()},
		NetFlow:  NetFlow{Enabled: true, Config: netflow.DefaultConfig()},
		Defender: Defender{Config: defender.DefaultConfig()},
	}
}

func (c Collect) validate() error {
	var errs []error
	if c.FlowLogs.Enabled() {
		errs = append(errs, under("collect.flow_logs.", c.FlowLogs.Config.Validate()))
		switch c.FlowLogs.Format {
		case "", "vpc", "vpc-parquet", "azure", "gcp":
		default:
			errs = append(errs, fmt.Errorf("collect.flow_logs.format: must be vpc, vpc-parquet, azure, gcp or empty (detect), got %q", c.FlowLogs.Format))
		}
	}
	if c.NetFlow.Enabled {
		errs = append(errs, under("collect.netflow.", c.NetFlow.Config.Validate()))
	}
	if c.Defender.Enabled {
		d := c.Defender.Config
		errs = append(errs, under("collect.", d.Validate())) // its keys start with "defender."
	}
	return errors.Join(errs...)
}

// under puts a component's errors, which name keys relative to its
// section, under the section's path.
func under(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		lines = append(lines, prefix+l)
	}
	return errors.New(strings.Join(lines, "\n"))
}
