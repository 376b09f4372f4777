package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/enrich"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/sensor"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

type readOpts struct {
	output   string
	out      string
	stats    bool
	devices  string
	progress bool
	cpuprof  string
	rejects  string
	filter   string
	store    string
}

func newReadCmd(g *globals) *cobra.Command {
	o := &readOpts{}
	cmd := &cobra.Command{
		Use:   "read [flags] FILE...",
		Short: "Turn pcap/pcapng files (plain or gzip), directories or stdin (-) into sessions",
		Long: `read decodes every packet of the given captures (tunnels such as VXLAN, GENEVE,
GRE and ERSPAN included), meters them into bidirectional sessions and writes
them out: --output json (one Session per line, docs/schema.md), zeek (a
Zeek-compatible conn.log) or none (with --stats, only a summary on stderr).`,
		Example: `  osprey read --output zeek capture.pcap > conn.log
  tcpdump -w - -i eth0 | osprey read --output json -
  osprey read --output none --stats captures/
  osprey read --store osprey-data captures/*.pcap`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRead(cmd, g, o, args) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "json", "json, zeek or none")
	f.StringVar(&o.out, "out", "-", "write sessions to this file instead of stdout")
	f.StringVar(&o.devices, "devices", "", "write the device inventory built from the input to this file, as JSON lines (docs/devices.md)")
	f.BoolVar(&o.stats, "stats", false, "print a summary (packets, bytes, sessions, decode errors by reason, packets/s) to stderr")
	f.BoolVar(&o.progress, "progress", true, "show a progress bar on stderr when it is a terminal")
	f.StringVar(&o.cpuprof, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	f.StringVar(&o.rejects, "rejects", "", "write frames that did not decode to this pcapng file (the error as packet comment)")
	f.StringVar(&o.store, "store", "", "load the sessions into the embedded store in this directory (output defaults to none)")
	f.StringVar(&o.filter, "filter", "", `write only the sessions that match, e.g. 'dst.port in (22, 23) and bytes > 1MB' (docs/filter.md)`)
	return cmd
}

func runRead(cmd *cobra.Command, g *globals, o *readOpts, paths []string) error {
	cfg, log, err := g.load()
	if err != nil {
		return err
	}
	w, err := openOut(o.out)
	if err != nil {
		return err
	}
	defer w.Close()
	if o.store != "" && !cmd.Flags().Changed("output") {
		o.output = "none"
	}
	sink, err := newSink(o.output, w, cfg)
	if err != nil {
		return err
	}
	var inv *devices.Inventory
	if cfg.Devices.Enabled && (o.store != "" || o.devices != "") {
		if inv, err = newInventory(cfg); err != nil {
			return err
		}
		sink = pipeline.Tee(sink, inv)
	}
	if o.store != "" {
		ss, err := newStoreSink(cmd.Context(), cfg, o.store, log, inv)
		if err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		sink = pipeline.Tee(sink, ss)
	}
	if o.filter != "" {
		expr, err := filter.Parse(o.filter)
		if err != nil {
			return fmt.Errorf("--filter: %w", err)
		}
		sink = pipeline.Filter(sink, filter.Compile(expr))
	}
	en, err := newEnricher(cmd.Context(), cfg, log)
	if err != nil {
		return err
	}
	if en != nil {
		defer en.Close()
		sink = enrich.Sink(sink, en) // first, so that filters, inventory and store see names
	}
	fileErrs := newErrorReporter(log, "capture file error")
	src := capture.NewFileSource(paths, capture.FileOptions{
		Stdin:   cmd.InOrStdin(),
		OnError: func(err error) { fileErrs.report("file", err) },
	})
	rejects, err := openRejects(o.rejects)
	if err != nil {
		return err
	}
	decodeErrs, onDecodeError := decodeErrors(log, rejects)
	sc := sensorConfig(cfg, "pcap")
	sc.OnDecodeError = onDecodeError
	s, err := sensor.New(sc, src, sink, false)
	if err != nil {
		return err
	}
	stopBar := func() {}
	if o.progress && term.IsTerminal(int(os.Stderr.Fd())) {
		stopBar = showProgress(os.Stderr, paths, src)
	}
	if o.cpuprof != "" {
		pf, err := os.Create(o.cpuprof)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	runErr := s.Run(cmd.Context())
	elapsed := time.Since(start)
	stopBar()
	closeErr := sink.Close()
	if rejects != nil {
		closeErr = errors.Join(closeErr, rejects.Close())
	}
	if o.stats {
		printReadStats(cmd.ErrOrStderr(), s.Stats(), src, elapsed, fileErrs.total(), decodeErrs.total())
	}
	if runErr != nil {
		return runErr
	}
	if closeErr != nil {
		return fmt.Errorf("write sessions: %w", closeErr)
	}
	if o.devices != "" && inv != nil {
		if err := writeDevicesFile(o.devices, inv); err != nil {
			return fmt.Errorf("--devices: %w", err)
		}
	}
	return nil
}
