package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/collect/defender"
	"github.com/osprey-ndr/osprey/internal/collect/flowlog"
	"github.com/osprey-ndr/osprey/internal/collect/netflow"
	"github.com/osprey-ndr/osprey/internal/collect/objects"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/pipeline"
)

// newCollectors builds the collectors the configuration enables, writing to
// p; bad input goes to dead.
func newCollectors(cfg config.Config, p *pipe, dead *collect.DeadLetter, log *slog.Logger) ([]component, error) {
	var parts []component
	c := cfg.Collect
	if c.FlowLogs.Enabled() {
		src, err := flowLogSource(cfg, p, dead, log)
		if err != nil {
			return nil, fmt.Errorf("collect.flow_logs: %w", err)
		}
		parts = append(parts, src)
	}
	if c.NetFlow.Enabled {
		nf, err := netflow.New(c.NetFlow.Config, pipeline.Stamp(p.sessions, cfg.Sensor.Tenant, cfg.Sensor.Name), dead, p.reg)
		if err != nil {
			return nil, fmt.Errorf("collect.netflow: %w", err)
		}
		parts = append(parts, nf)
		go func() {
			for _, l := range nf.Listeners() {
				log.Info("listening for flow records", "protocols", l.Protocols, "address", l.Addr.String())
			}
		}()
	}
	if c.Defender.Enabled {
		if p.metrics == nil {
			return nil, fmt.Errorf("collect.defender: device metrics need a store")
		}
		dc := c.Defender.Config
		if dc.Tenant == "" {
			dc.Tenant = cfg.Sensor.Tenant
		}
		if m := dc.MQTT; m.Mode == "embedded" && len(m.Users) == 0 && m.TLS.ClientCA == "" {
			log.Warn("the Device Defender broker takes reports from anyone: set collect.defender.mqtt.users or tls.client_ca", "listen", m.Listen)
		}
		d, err := defender.New(dc, p.metrics, dead, p.reg, log)
		if err != nil {
			return nil, fmt.Errorf("collect.defender: %w", err)
		}
		parts = append(parts, d)
	}
	return parts, nil
}

// flowLogConfig maps the configuration onto the flow-log reader's.
func flowLogConfig(cfg config.Config, format string) flowlog.Config {
	fc := flowlog.DefaultConfig()
	fc.Format = flowlog.Format(format)
	fc.Fields = cfg.Collect.FlowLogs.Fields
	fc.Tenant, fc.Sensor = cfg.Sensor.Tenant, cfg.Sensor.Name
	fc.CommunityIDSeed = cfg.Meter.CommunityIDSeed
	return fc
}

// flowLogSource reads flow-log objects (files, followed directories, S3
// prefixes) into p. An object is marked read only once its sessions are
// stored, so a crash re-reads it, and the store drops the records it
// already holds (their ids come from their content).
func flowLogSource(cfg config.Config, p *pipe, dead *collect.DeadLetter, log *slog.Logger) (*objects.Source, error) {
	fc := flowLogConfig(cfg, cfg.Collect.FlowLogs.Format)
	if _, err := flowlog.New(fc, p.sessions, dead); err != nil {
		return nil, err
	}
	// A Reader serves one object at a time; objects are read concurrently.
	readers := sync.Pool{New: func() any {
		r, _ := flowlog.New(fc, p.sessions, dead) // checked above
		return r
	}}
	read := func(ctx context.Context, obj objects.Object) error {
		r := readers.Get().(*flowlog.Reader)
		defer readers.Put(r)
		var err error
		if obj.Path != "" {
			_, err = r.ReadFile(ctx, obj.Path)
		} else { // S3: streamed (a Parquet object is read into memory whole)
			var rc io.ReadCloser
			if rc, err = obj.Open(ctx); err == nil {
				_, err = r.Read(ctx, obj.Name, rc)
				rc.Close()
			}
		}
		if err != nil {
			return err
		}
		return p.sync(ctx)
	}
	return objects.New(cfg.Collect.FlowLogs.Config, read, objects.Deps{Log: log, Metrics: p.reg})
}
