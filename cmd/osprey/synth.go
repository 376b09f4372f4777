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
VPC Traffic Mirroring delivers it.

--iot draws 35 % of the conversations from an IoT/OT and extra-IT mix
instead, written as the protocols specify (Wireshark and nDPI recognise
them): MQTT (1883), Modbus/TCP (502), S7comm (102), DNP3 (20000),
BACnet/IP (47808), DHCP, SSH, Telnet, FTP, mDNS and LLMNR, all IPv4. Fleet
devices keep one role each (sensor, cam, thermostat, gw, ws), so a device
uses the same host name ("cam-0042") in DHCP, MQTT, mDNS and FTP; the plant
(10.30.1.0/24: HMIs, Schneider, Siemens and SEL controllers) and the
building network (10.30.2.0/24: BACnet controllers) are fixed. Without
--iot the output is unchanged for a seed.`,
		Example: `  osprey synth --packets 1000000 --flows 20000 --vxlan -o mirror.pcap
  osprey synth --packets 200000 --flows 3000 --iot -o plant.pcap`,
		Args: cobra.NoArgs,
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
	f.BoolVar(&cfg.IoT, "iot", false, "draw 35% of conversations from the IoT/OT mix (MQTT, Modbus, S7comm, DNP3, BACnet, DHCP, SSH, Telnet, FTP, mDNS, LLMNR)")
	f.Int64Var(&cfg.Seed, "seed", 1, "random seed (same seed, same bytes)")
	cfg.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
