package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/synth"
)

func newSynthCmd() *cobra.Command {
	cfg := synth.Config{}
	var out string
	cmd := &cobra.Command{
		Use:   "synth -o FILE",
		Short: "Write a synthetic fleet capture (pcap) for demos and benchmarks",
		Long: `synth writes a deterministic pcap of fleet-like traffic — TCP sessions with
handshakes and teardown, DNS, NTP, ICMP, scans, IPv4 and IPv6, VLANs — with
--flows conversations alive at any time, optionally wrapped in VXLAN as AWS
VPC Traffic Mirroring delivers it.`,
		Example: `  osprey synth --packets 1000000 --flows 20000 --vxlan -o mirror.pcap`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			bw := bufio.NewWriterSize(f, 1<<20)
			st, err := synth.WritePCAP(bw, cfg)
			if err == nil {
				err = bw.Flush()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("synth %s: %w", out, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %+v\n", out, st)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "pcap file to write (required)")
	f.IntVar(&cfg.Packets, "packets", 1_000_000, "number of packets")
	f.IntVar(&cfg.Flows, "flows", 10_000, "concurrent conversations")
	f.BoolVar(&cfg.VXLAN, "vxlan", false, "wrap every frame in VXLAN (UDP 4789) as traffic mirroring does")
	f.Float64Var(&cfg.IPv6Share, "ipv6", 0.2, "share of IPv6 conversations")
	f.Int64Var(&cfg.Seed, "seed", 1, "random seed (same seed, same bytes)")
	cfg.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
