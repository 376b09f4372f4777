package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/collect/flowlog"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/deliver"
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
	format   string
	dead     string
	findings string
	outputs  []string
}

func newReadCmd(g *globals) *cobra.Command {
	o := &readOpts{}
	cmd := &cobra.Command{
		Use:   "read [flags] FILE...",
		Short: "Turn pcap/pcapng captures and cloud flow logs (files, directories or stdin) into sessions",
		Long: `read decodes every packet of the given captures (tunnels such as VXLAN, GENEVE,
GRE and ERSPAN included), meters them into bidirectional sessions and writes
them out: --output json (one Session per line, docs/schema.md), zeek (a
Zeek-compatible conn.log) or none (with --stats, only a summary on stderr).

It also reads cloud flow logs — AWS VPC Flow Logs (text, gzip, Parquet; any
version and custom format), Azure NSG/VNet and GCP VPC flow logs — into the
same sessions (docs/flowlogs.md). Each file's kind is detected from its first
bytes, or set with --format.

With --findings it runs detection offline — the behavioural detectors and the
policies of the configuration's detect section (docs/findings.md) — and
writes the findings in their final state as JSON lines. With --store the
findings are stored too (unless detect.enabled is false).`,
		Example: `  osprey read --output zeek capture.pcap > conn.log
  tcpdump -w - -i eth0 | osprey read --output json -
  osprey read --output none --stats captures/
  osprey read --store osprey-data captures/*.pcap
  osprey read --output json --dead-letter bad.jsonl AWSLogs/
  zcat flows.log.gz | osprey read --format vpc -
  osprey read --config osprey.yaml --output none --findings out.jsonl captures/ flowlogs/`,
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
	f.StringVar(&o.format, "format", "auto", "input kind: auto (detect each file), pcap, vpc, vpc-parquet, azure or gcp")
	f.StringVar(&o.dead, "dead-letter", "", "append flow-log lines that were rejected to this JSON-lines file (source, line, offset, field, reason, raw)")
	f.StringVar(&o.findings, "findings", "", "run detection and write the findings to this JSON-lines file (\"-\" for stdout; docs/findings.md)")
	f.StringSliceVar(&o.outputs, "outputs", nil, "deliver findings (and the sessions and metrics they ask for) to these outputs of the configuration, or \"all\" (docs/outputs.md)")
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
	var ss *storeSink
	if o.store != "" {
		if ss, err = newStoreSink(cmd.Context(), cfg, o.store, log, inv); err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		sink = pipeline.Tee(sink, ss)
	}
	outs, err := readOutputs(cfg, log, o)
	if err != nil {
		sink.Close()
		return fmt.Errorf("--outputs: %w", err)
	}
	if outs != nil {
		defer outs.Close() // after the sink: drains what the run queued
		if outs.Wants(deliver.KindSession) {
			sink = pipeline.Tee(sink, outs.sessions())
		}
	}
	if o.filter != "" {
		expr, err := filter.Parse(o.filter)
		if err != nil {
			sink.Close()
			return fmt.Errorf("--filter: %w", err)
		}
		sink = pipeline.Filter(sink, filter.Compile(expr))
	}
	fd, err := readDetection(cfg, log, o, ss, outs)
	if err != nil {
		sink.Close()
		return err
	}
	if fd != nil {
		// Before the filter, which selects what is written, not what is
		// looked at; first, so that its findings reach the store before
		// the store closes.
		sink = pipeline.Tee(fd, sink)
	}
	en, err := newEnricher(cmd.Context(), cfg, log)
	if err != nil {
		return err
	}
	if en != nil {
		defer en.Close()
		sink = enrich.Sink(sink, en) // first, so that filters, inventory and store see names
	}
	packets, flows, err := splitInputs(paths, o.format)
	if err != nil {
		sink.Close()
		return err
	}
	var pr *packetRead
	start := time.Now()
	stopProfile, err := startProfile(o.cpuprof)
	if err != nil {
		sink.Close()
		return err
	}
	var runErr error
	if len(packets) > 0 {
		pr, runErr = readPackets(cmd, cfg, log, o, packets, sink)
	}
	var fr flowRead
	if runErr == nil && len(flows) > 0 {
		fr, runErr = readFlows(cmd, cfg, log, o, flows, sink)
	}
	stopProfile()
	elapsed := time.Since(start)
	closeErr := sink.Close()
	if fd != nil {
		closeErr = errors.Join(closeErr, fd.closeFile())
	}
	if pr != nil && pr.rejects != nil {
		closeErr = errors.Join(closeErr, pr.rejects.Close())
	}
	if outs != nil {
		closeErr = errors.Join(closeErr, outs.Close())
		outs.report(cmd.ErrOrStderr())
	}
	if o.stats {
		if pr != nil && pr.s != nil {
			printReadStats(cmd.ErrOrStderr(), pr.s.Stats(), pr.src, elapsed, pr.fileErrs.total(), pr.decodeErrs.total())
		}
		if len(flows) > 0 {
			printFlowStats(cmd.ErrOrStderr(), fr, elapsed)
		}
		if fd != nil {
			fd.count.print(cmd.ErrOrStderr())
		}
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

// packetRead is what reading the captures leaves for the summary.
type packetRead struct {
	s                    *sensor.Sensor
	src                  *capture.FileSource
	rejects              *rejectWriter
	fileErrs, decodeErrs *errorReporter
}

// readPackets meters the captures into sink.
func readPackets(cmd *cobra.Command, cfg config.Config, log *slog.Logger, o *readOpts, paths []string, sink pipeline.SessionSink) (*packetRead, error) {
	pr := &packetRead{fileErrs: newErrorReporter(log, "capture file error")}
	pr.src = capture.NewFileSource(paths, capture.FileOptions{
		Stdin:   cmd.InOrStdin(),
		OnError: func(err error) { pr.fileErrs.report("file", err) },
	})
	var err error
	if pr.rejects, err = openRejects(o.rejects); err != nil {
		return nil, err
	}
	var onDecodeError func(string, *capture.Frame, error)
	pr.decodeErrs, onDecodeError = decodeErrors(log, pr.rejects)
	sc := sensorConfig(cfg, "pcap")
	sc.OnDecodeError = onDecodeError
	if pr.s, err = sensor.New(sc, pr.src, sink, false); err != nil {
		return pr, err
	}
	stopBar := func() {}
	if o.progress && term.IsTerminal(int(os.Stderr.Fd())) {
		stopBar = showProgress(os.Stderr, paths, pr.src)
	}
	defer stopBar()
	return pr, pr.s.Run(cmd.Context())
}

// flowRead sums what the flow-log files gave.
type flowRead struct {
	files int
	flowlog.Stats
	rejected map[string]uint64
}

// readFlows reads the flow-log files (or stdin) into sink; rejected lines
// go to --dead-letter and are counted, and the rest goes on.
func readFlows(cmd *cobra.Command, cfg config.Config, log *slog.Logger, o *readOpts, paths []string, sink pipeline.SessionSink) (flowRead, error) {
	var fr flowRead
	dead, err := collect.OpenDeadLetter(o.dead, log)
	if err != nil {
		return fr, fmt.Errorf("--dead-letter: %w", err)
	}
	defer func() { fr.rejected = dead.Counts(); dead.Close() }()
	format := o.format
	if format == "auto" {
		format = ""
	}
	r, err := flowlog.New(flowLogConfig(cfg, format), sink, dead)
	if err != nil {
		return fr, err
	}
	for _, p := range paths {
		var st flowlog.Stats
		if p == "-" {
			st, err = r.Read(cmd.Context(), "stdin", cmd.InOrStdin())
		} else {
			st, err = r.ReadFile(cmd.Context(), p)
		}
		fr.files++
		fr.Lines, fr.Records, fr.NoData, fr.SkipData = fr.Lines+st.Lines, fr.Records+st.Records, fr.NoData+st.NoData, fr.SkipData+st.SkipData
		fr.Rejected, fr.Skipped = fr.Rejected+st.Rejected, fr.Skipped+st.Skipped
		if err != nil {
			return fr, err
		}
	}
	return fr, nil
}

// startProfile starts --cpuprofile, if asked for.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}
