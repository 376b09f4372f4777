package main

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/sensor"
)

type sensorOpts struct {
	vxlan, geneve []string
	iface         string
	health        string
	output, out   string
	check         bool
	rejects       string
	store         string
}

func newSensorCmd(g *globals) *cobra.Command {
	o := &sensorOpts{}
	cmd := &cobra.Command{
		Use:   "sensor",
		Short: "Receive mirrored traffic (VXLAN 4789, GENEVE 6081) or capture live, and write sessions",
		Long: `sensor listens for mirrored traffic — AWS VPC Traffic Mirroring sends VXLAN to
UDP 4789, a Gateway Load Balancer GENEVE to 6081 — on several SO_REUSEPORT
sockets, and/or captures from a network interface through AF_PACKET
(--interface). It serves /healthz and /metrics for load-balancer health checks
and Prometheus, and writes sessions until it is stopped (SIGINT/SIGTERM), when
it ends every open flow and flushes them.`,
		Example: `  osprey sensor --output json --out sessions.jsonl
  osprey sensor --vxlan 0.0.0.0:4789 --geneve "" --health 0.0.0.0:9780
  osprey sensor --interface eth0 --vxlan "" --geneve "" --output zeek --out conn.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSensor(cmd, g, o) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.vxlan, "vxlan", nil, "VXLAN listen addresses (default from capture.udp.vxlan: 0.0.0.0:4789); \"\" for none")
	f.StringSliceVar(&o.geneve, "geneve", nil, "GENEVE listen addresses (default from capture.udp.geneve: 0.0.0.0:6081); \"\" for none")
	f.StringVar(&o.iface, "interface", "", "capture live from this interface through AF_PACKET (capture.interface.name)")
	f.StringVar(&o.health, "health", "", "address of /healthz and /metrics (health.listen, default 127.0.0.1:9780)")
	f.StringVarP(&o.output, "output", "o", "json", "json, zeek or none")
	f.StringVar(&o.store, "store", "", "also load the sessions into the embedded store in this directory, applying store.retention hourly (output defaults to none)")
	f.StringVar(&o.out, "out", "-", "write sessions to this file instead of stdout")
	f.BoolVar(&o.check, "check", false, "validate the configuration and exit")
	f.StringVar(&o.rejects, "rejects", "", "write frames that did not decode to this pcapng file")
	return cmd
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func runSensor(cmd *cobra.Command, g *globals, o *sensorOpts) error {
	cfg, log, err := g.load()
	if err != nil {
		return err
	}
	f := cmd.Flags()
	if f.Changed("vxlan") {
		cfg.Capture.UDP.VXLAN = nonEmpty(o.vxlan)
	}
	if f.Changed("geneve") {
		cfg.Capture.UDP.GENEVE = nonEmpty(o.geneve)
	}
	if o.iface != "" {
		cfg.Capture.Interface.Name = o.iface
	}
	if o.health != "" {
		cfg.Health.Listen = o.health
	}
	if o.check {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), "configuration is valid")
		return err
	}
	if o.output == "none" {
		return errors.New("--output none is only for osprey read")
	}

	p, err := newPipe(cmd.Context(), cfg, log, pipeOpts{output: o.output, out: o.out, outputChanged: f.Changed("output"),
		store: o.store != "", storeDir: o.store})
	if err != nil {
		return err
	}
	rejects, err := openRejects(o.rejects)
	if err != nil {
		p.Close()
		return err
	}
	if rejects != nil {
		defer rejects.Close()
	}
	decodeErrs, onDecodeError := decodeErrors(log, rejects)
	sensors, err := packetSensors(cfg, p, log, onDecodeError)
	if err == nil && len(sensors) == 0 {
		err = errors.New("nothing to receive: give --vxlan, --geneve or --interface")
	}
	if err != nil {
		p.Close()
		return err
	}
	parts := make([]component, len(sensors))
	for i, s := range sensors {
		parts[i] = s
	}
	err = p.serve(cmd.Context(), cfg.Health.Listen, log, parts)
	log.Info("sensor stopped", "decode_errors", decodeErrs.total())
	return err
}

// packetSensors starts nothing: it opens the configured packet sources
// (UDP VXLAN/GENEVE listeners, AF_PACKET) and a sensor for each, writing
// to p.
func packetSensors(cfg config.Config, p *pipe, log *slog.Logger, onDecodeError func(string, *capture.Frame, error)) ([]*sensor.Sensor, error) {
	var sensors []*sensor.Sensor
	add := func(src capture.Source, kind string) error {
		sc := sensorConfig(cfg, kind)
		sc.OnDecodeError = onDecodeError
		s, err := sensor.New(sc, src, p.sessions, true)
		if err != nil {
			return err
		}
		sensors = append(sensors, s)
		p.reg.MustRegister(sensor.NewCollector(s, src.Name()))
		return nil
	}
	var listens []capture.UDPListen
	for _, a := range cfg.Capture.UDP.VXLAN {
		listens = append(listens, capture.UDPListen{Addr: a, Kind: decode.LinkVXLANPayload})
	}
	for _, a := range cfg.Capture.UDP.GENEVE {
		listens = append(listens, capture.UDPListen{Addr: a, Kind: decode.LinkGENEVEPayload})
	}
	if len(listens) > 0 {
		uc := capture.DefaultUDPConfig()
		uc.Listen = listens
		uc.Sockets = cfg.Capture.UDP.Sockets
		if uc.Sockets == 0 {
			uc.Sockets = runtime.GOMAXPROCS(0)
		}
		uc.ReceiveBuffer = int(cfg.Capture.UDP.ReceiveBuffer)
		src, err := capture.NewUDPSource(uc)
		if err != nil {
			return nil, fmt.Errorf("udp listener: %w", err)
		}
		if err := add(src, "mirror"); err != nil {
			return nil, err
		}
		p.reg.MustRegister(src.Collector())
		log.Info("listening for mirrored traffic", "addresses", fmt.Sprint(src.Addrs()))
	}
	if name := cfg.Capture.Interface.Name; name != "" {
		src, err := capture.NewAFPacketSource(capture.AFPacketConfig{
			Interface: name, Promiscuous: cfg.Capture.Interface.Promiscuous, Snaplen: cfg.Capture.Interface.Snaplen,
		})
		if err != nil {
			return nil, fmt.Errorf("capture on %s: %w", name, err)
		}
		if err := add(src, "afpacket"); err != nil {
			return nil, err
		}
		p.reg.MustRegister(src.Collector())
		log.Info("capturing", "interface", name)
	}
	return sensors, nil
}
