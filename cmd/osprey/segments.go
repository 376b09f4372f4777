package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/segment"
	"github.com/osprey-ndr/osprey/internal/store"
)

func newSegmentsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "segments",
		Short: "Segmentation recommendations and capacity from stored traffic",
		Long: `segments reads the stored cross-segment traffic (docs/segmentation.md):
recommend lists which segment pairs talk on which ports and proposes a policy
that allows exactly that; capacity reports peak and p95 bits/s of each
configured link (segmentation.links) and segment pair.`,
	}
	cmd.AddCommand(newSegmentsRecommendCmd(g), newSegmentsCapacityCmd(g))
	return cmd
}

type segmentsOpts struct {
	store, since, until, tenant, output, policy string
	minSessions                                 int
}

func (o *segmentsOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.store, "store", "", "the embedded store's directory (default: store.path of the configuration)")
	f.StringVar(&o.since, "since", "7d", "from this time: RFC 3339, a date, or a duration ago (7d, 24h)")
	f.StringVar(&o.until, "until", "", "to this time (exclusive; default now)")
	f.StringVar(&o.tenant, "tenant", "", "tenant (default: sensor.tenant of the configuration)")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
}

// open reads the configuration, the tenant and the range, and opens
// the store.
func (o *segmentsOpts) open(cmd *cobra.Command, g *globals) (config.Config, store.Store, store.Scope, time.Time, error) {
	var sc store.Scope
	now := time.Now().UTC()
	cfg, _, err := g.load()
	if err != nil {
		return cfg, nil, sc, now, err
	}
	if o.output != "table" && o.output != "json" {
		return cfg, nil, sc, now, fmt.Errorf("--output %q: want table or json", o.output)
	}
	sc.Tenant = cfg.Sensor.Tenant
	if o.tenant != "" {
		sc.Tenant = o.tenant
	}
	if sc.Since, err = parseWhen(o.since, now); err != nil {
		return cfg, nil, sc, now, fmt.Errorf("--since: %w", err)
	}
	if sc.Until, err = parseWhen(o.until, now); err != nil {
		return cfg, nil, sc, now, fmt.Errorf("--until: %w", err)
	}
	if !sc.Since.IsZero() && !sc.Until.IsZero() && !sc.Since.Before(sc.Until) {
		return cfg, nil, sc, now, fmt.Errorf("--until: %s is not after --since (%s)", sc.Until.Format(time.RFC3339), sc.Since.Format(time.RFC3339))
	}
	st, err := openStore(cmd.Context(), cfg, o.store, false)
	if err != nil {
		return cfg, nil, sc, now, fmt.Errorf("--store: %w", err)
	}
	return cfg, st, sc, now, nil
}

func newSegmentsRecommendCmd(g *globals) *cobra.Command {
	o := &segmentsOpts{}
	cmd := &cobra.Command{
		Use:   "recommend --store DIR --since 7d",
		Short: "Which segment pairs talk on which ports, and a policy that allows exactly that",
		Long: `recommend lists the answered cross-segment traffic of the range by segment pair,
protocol and destination port — unanswered and rejected connections are not
needed traffic and are left out, and so is any port with fewer than
--min-sessions sessions — and proposes a policy (docs/policies.md) that allows
exactly it and reports any other traffic between segments. --policy writes
the policy to a file; check it with osprey policy test.`,
		Example: `  osprey segments recommend --store osprey-data --since 7d
  osprey segments recommend --store osprey-data --since 30d --min-sessions 10 --policy segmentation.yaml
  osprey policy test --store osprey-data --since 7d segmentation.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, sc, _, err := o.open(cmd, g)
			if err != nil {
				return err
			}
			defer st.Close()
			minSessions := cfg.Segmentation.MinSessions
			if cmd.Flags().Changed("min-sessions") {
				minSessions = o.minSessions
			}
			if minSessions < 1 {
				return fmt.Errorf("--min-sessions: must be at least 1, got %d", minSessions)
			}
			rec, err := segment.Recommend(cmd.Context(), st, sc, minSessions)
			if err != nil {
				return err
			}
			if o.policy != "" {
				if err := os.WriteFile(o.policy, []byte(rec.Policy), 0o644); err != nil {
					return fmt.Errorf("--policy: %w", err)
				}
			}
			if o.output == "json" {
				return writeIndented(cmd.OutOrStdout(), rec)
			}
			return printRecommendations(cmd.OutOrStdout(), rec, o.policy == "")
		},
	}
	o.flags(cmd)
	cmd.Flags().IntVar(&o.minSessions, "min-sessions", 0, "fewest sessions a pair's port needs (default segmentation.min_sessions, 3)")
	cmd.Flags().StringVar(&o.policy, "policy", "", "write the proposed policy to this file (else it is printed after the table)")
	return cmd
}

func printRecommendations(w io.Writer, rec segment.Recommendations, withPolicy bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SRC\tDST\tPROTO\tPORT\tSESSIONS\tBYTES")
	for _, p := range rec.Items {
		for _, port := range p.Ports {
			n := "-"
			if port.Proto == "tcp" || port.Proto == "udp" {
				n = strconv.Itoa(int(port.Port))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", p.Src, p.Dst, port.Proto, n, port.Sessions, port.Bytes)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d segment pairs\n", len(rec.Items))
	if withPolicy {
		_, err := fmt.Fprintf(w, "\n%s", rec.Policy)
		return err
	}
	return nil
}

func newSegmentsCapacityCmd(g *globals) *cobra.Command {
	o := &segmentsOpts{}
	cmd := &cobra.Command{
		Use:   "capacity --store DIR --since 7d",
		Short: "Peak and p95 bits/s of each configured link and segment pair, against the link's bandwidth",
		Long: `capacity reads the per-minute segment rollups of the range: for each link of
segmentation.links its peak and p95 bits/s (bytes both ways in a minute × 8 /
60), its utilisation (p95 / bandwidth) and a warning from
segmentation.warn_utilisation (60 %); then every other pair of segments with
its throughput only.`,
		Example: `  osprey segments capacity --config osprey.yaml --since 7d
  osprey segments capacity --store osprey-data --since 2026-03-01 --until 2026-03-08 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, sc, now, err := o.open(cmd, g)
			if err != nil {
				return err
			}
			defer st.Close()
			if !sc.Since.IsZero() {
				sc.Since = sc.Since.Truncate(time.Minute)
			}
			rep, err := segment.Capacity(cmd.Context(), st, sc, cfg.Segmentation.Config(), now)
			if err != nil {
				return err
			}
			if o.output == "json" {
				return writeIndented(cmd.OutOrStdout(), rep)
			}
			return printCapacity(cmd.OutOrStdout(), rep)
		},
	}
	o.flags(cmd)
	return cmd
}

func printCapacity(w io.Writer, rep segment.CapacityReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSRC\tDST\tBANDWIDTH\tPEAK\tP95\tUTILISATION\t")
	for _, c := range rep.Items {
		bw, util, warn := "-", "-", ""
		if c.BandwidthBps > 0 {
			bw, util = rate(c.BandwidthBps), fmt.Sprintf("%.1f %%", 100*c.Utilisation)
		}
		if c.Warning {
			warn = "WARNING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Src, c.Dst, bw, rate(c.PeakBps), rate(c.P95Bps), util, warn)
	}
	return tw.Flush()
}

// rate writes bits/s with a decimal unit.
func rate(bps float64) string {
	for _, u := range []struct {
		unit string
		v    float64
	}{{"Tbps", 1e12}, {"Gbps", 1e9}, {"Mbps", 1e6}, {"kbps", 1e3}} {
		if bps >= u.v {
			return strconv.FormatFloat(bps/u.v, 'f', 2, 64) + " " + u.unit
		}
	}
	return strconv.FormatFloat(bps, 'f', 0, 64) + " bps"
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
