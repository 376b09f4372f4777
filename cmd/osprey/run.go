package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/collect"
)

type runOpts struct {
	output, out string
	store       string
	health      string
	check       bool
	rejects     string
	deadLetter  string
	api         string
}

func newRunCmd(g *globals) *cobra.Command {
	o := &runOpts{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run every part in one process: packet listeners, collectors and the store",
		Long: `run is the all-in-one daemon. From its configuration (docs/configuration.md) it
starts the packet listeners (VXLAN, GENEVE, AF_PACKET) and the collectors —
cloud flow logs from files, directories and S3 buckets, NetFlow/IPFIX/sFlow
over UDP, AWS IoT Device Defender metrics over MQTT and HTTP, cloud-side
metrics feeds (docs/collectors.md) — enriches what they produce and loads it
into the store (embedded DuckDB in store.path by default, or ClickHouse). It
serves /healthz and /metrics, and stops on SIGINT/SIGTERM after flushing.`,
		Example: `  osprey run --config osprey.yaml
  osprey run --config osprey.yaml --check
  osprey run --store osprey-data --dead-letter rejected.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRun(cmd, g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "store", "", "embedded store directory (default store.path; ignored with store.backend clickhouse)")
	f.StringVarP(&o.output, "output", "o", "none", "also write sessions as json or zeek to --out")
	f.StringVar(&o.out, "out", "-", "where --output writes")
	f.StringVar(&o.health, "health", "", "address of /healthz and /metrics (health.listen, default 127.0.0.1:9780)")
	f.BoolVar(&o.check, "check", false, "validate the configuration and exit")
	f.StringVar(&o.rejects, "rejects", "", "write frames that did not decode to this pcapng file")
	f.StringVar(&o.api, "api", "", "serve the REST API on this address (api.enabled and api.listen; docs/api.md)")
	f.StringVar(&o.deadLetter, "dead-letter", "", "append rejected flow-log lines, flow records and reports to this JSON-lines file (collect.dead_letter)")
	return cmd
}

func runRun(cmd *cobra.Command, g *globals, o *runOpts) error {
	cfg, log, err := g.load()
	if err != nil {
		return err
	}
	if o.health != "" {
		cfg.Health.Listen = o.health
	}
	if o.deadLetter != "" {
		cfg.Collect.DeadLetter = o.deadLetter
	}
	if o.api != "" {
		cfg.API.Enabled, cfg.API.Listen = true, o.api
	}
	if o.check {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), "configuration is valid")
		return err
	}
	ctx := cmd.Context()
	p, err := newPipe(ctx, cfg, log, pipeOpts{output: o.output, out: o.out, outputChanged: true, store: true, storeDir: o.store})
	if err != nil {
		return err
	}
	dead, err := collect.OpenDeadLetter(cfg.Collect.DeadLetter, log)
	if err != nil {
		p.Close()
		return fmt.Errorf("dead letter: %w", err)
	}
	defer dead.Close()
	p.reg.MustRegister(dead)
	rejects, err := openRejects(o.rejects)
	if err != nil {
		p.Close()
		return err
	}
	if rejects != nil {
		defer rejects.Close()
	}
	_, onDecodeError := decodeErrors(log, rejects)
	var parts []component
	sensors, err := packetSensors(cfg, p, log, onDecodeError)
	for _, s := range sensors {
		parts = append(parts, s)
	}
	if err == nil {
		var more []component
		more, err = newCollectors(cfg, p, dead, log)
		parts = append(parts, more...)
	}
	if err == nil && len(parts) == 0 {
		err = errors.New("nothing to run: the configuration enables no listener or collector")
	}
	if err == nil && cfg.API.Enabled {
		var a apiServer
		if a, err = newAPI(cfg, p, log); err == nil {
			parts = append(parts, a)
		}
	}
	if err != nil {
		p.Close()
		return err
	}
	err = p.serve(ctx, cfg.Health.Listen, log, parts)
	log.Info("stopped", "rejected", fmt.Sprint(dead.Counts()))
	return err
}
