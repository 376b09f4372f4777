package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

type queryOpts struct {
	store, filter, tenant, output string
	top, by, series, metric, agg  string
	matrix, device, cursor        string
	devices                       bool
	category                      string
	findings                      bool
	detector, rule, state         string
	severity, entity              string
	since, until                  string
	step                          time.Duration
	limit                         int
}

func newQueryCmd(g *globals) *cobra.Command {
	o := &queryOpts{}
	cmd := &cobra.Command{
		Use:   "query [flags]",
		Short: "Search and aggregate the sessions and device metrics in a store",
		Long: `query asks the store typed questions — never SQL. Without --top, --series or
--matrix it pages through the sessions that match --filter (docs/filter.md),
newest first; --cursor continues where the previous page stopped.

--findings lists the stored findings (docs/findings.md) in their latest state,
most recently first seen first, narrowed by --detector, --rule, --state,
--severity (at least) and --entity; --since and --until select by first-seen
time.

Times (--since, --until) are RFC 3339 ("2026-03-01T10:00:00Z"), a date
("2026-03-01"), or a duration back from now ("24h" = 24 hours ago, "7d" = 7
days ago).`,
		Example: `  osprey query --store osprey-data --filter 'dst.port in (22, 23)' --limit 20
  osprey query --store osprey-data --top src.ip --by bytes --since 24h
  osprey query --store osprey-data --top app --by sessions --output json
  osprey query --store osprey-data --series app --step 1h --since 24h
  osprey query --store osprey-data --series device --metric aws:num-listening-tcp-ports --agg max
  osprey query --store osprey-data --matrix segment --by bytes
  osprey query --store osprey-data --devices --category camera
  osprey query --store osprey-data --findings --severity high --since 7d
  osprey query --store osprey-data --findings --entity ip:10.0.0.5 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQuery(cmd, g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "store", "", "the embedded store's directory (default: store.path of the configuration)")
	f.StringVar(&o.filter, "filter", "", "select sessions, e.g. 'src.tag = \"iot\" and bytes > 1MB' (docs/filter.md)")
	f.StringVar(&o.tenant, "tenant", "", "tenant to query (default: sensor.tenant of the configuration)")
	f.StringVar(&o.top, "top", "", "rank the values of a dimension: a filter field (src.ip, dst.port, app, src.tag, …) or device")
	f.StringVar(&o.by, "by", "bytes", "measure for --top, --series and --matrix: bytes, packets or sessions")
	f.StringVar(&o.series, "series", "", "time series by dimension (a filter field or device)")
	f.StringVar(&o.metric, "metric", "", "with --series device: a device metric (aws:num-listening-tcp-ports, …)")
	f.StringVar(&o.agg, "agg", "max", "with --metric: max, min, avg, sum or last per step")
	f.StringVar(&o.device, "device", "", "with --metric: only this device")
	f.DurationVar(&o.step, "step", time.Hour, "with --series: bucket width (at least 1m)")
	f.StringVar(&o.matrix, "matrix", "", "traffic between the ends' segment or tag")
	f.StringVar(&o.since, "since", "", "from this time (inclusive)")
	f.StringVar(&o.until, "until", "", "to this time (exclusive)")
	f.IntVar(&o.limit, "limit", 0, "rows (search: 100 a page; top: 10; series: 10 series; matrix: all cells)")
	f.StringVar(&o.cursor, "cursor", "", "search and --findings: continue after this position (printed after a full page)")
	f.BoolVar(&o.devices, "devices", false, "list the device inventory, most recently seen first (docs/devices.md)")
	f.StringVar(&o.category, "category", "", "with --devices: only this category (camera, plc, …)")
	f.BoolVar(&o.findings, "findings", false, "list findings, most recently first seen first (docs/findings.md)")
	f.StringVar(&o.detector, "detector", "", "with --findings: only this detector's (beaconing, policy, …)")
	f.StringVar(&o.rule, "rule", "", "with --findings: only this rule's")
	f.StringVar(&o.state, "state", "", "with --findings: active, acknowledged, cleared, false_positive or benign_positive")
	f.StringVar(&o.severity, "severity", "", "with --findings: at least this severe (info, low, medium, high, critical)")
	f.StringVar(&o.entity, "entity", "", "with --findings: only those naming this entity (ip:10.0.0.5, asset:i-0abc, port:22)")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	return cmd
}

func runQuery(cmd *cobra.Command, g *globals, o *queryOpts) error {
	cfg, _, err := g.load()
	if err != nil {
		return err
	}
	if o.output != "table" && o.output != "json" {
		return fmt.Errorf("--output %q: want table or json", o.output)
	}
	modes := 0
	for _, m := range []string{o.top, o.series, o.matrix} {
		if m != "" {
			modes++
		}
	}
	for _, b := range []bool{o.devices, o.findings} {
		if b {
			modes++
		}
	}
	if modes > 1 {
		return fmt.Errorf("--top, --series, --matrix, --devices and --findings are separate questions: give one")
	}
	expr, err := filter.Parse(o.filter)
	if err != nil {
		return fmt.Errorf("--filter: %w", err)
	}
	now := time.Now().UTC()
	sc := store.Scope{Tenant: cfg.Sensor.Tenant}
	if o.tenant != "" {
		sc.Tenant = o.tenant
	}
	if sc.Since, err = parseWhen(o.since, now); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if sc.Until, err = parseWhen(o.until, now); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	by := store.Measure(o.by)
	ctx := cmd.Context()
	st, err := openStore(ctx, cfg, o.store, false)
	if err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	defer st.Close()
	out := cmd.OutOrStdout()
	switch {
	case o.devices:
		devs, err := st.Devices(ctx, store.DeviceQuery{Tenant: sc.Tenant, Category: o.category, Limit: o.limit})
		if err != nil {
			return err
		}
		return render(out, o.output, devs, []string{"id", "category", "vendor", "os", "names", "ips", "last_seen"}, deviceRow)
	case o.findings:
		page, err := st.Findings(ctx, store.FindingQuery{Scope: sc, Detector: o.detector, Rule: o.rule, State: o.state,
			MinSeverity: o.severity, Entity: o.entity, Limit: o.limit, Cursor: o.cursor})
		if err != nil {
			return err
		}
		err = render(out, o.output, page.Findings, []string{"first_seen", "detector", "rule", "severity", "state", "entities", "summary"}, findingRow)
		if err == nil && page.Next != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "more: --cursor %s\n", page.Next)
		}
		return err
	case o.top != "":
		rows, err := st.Top(ctx, store.TopQuery{Scope: sc, Filter: expr, Dimension: o.top, By: by, Limit: o.limit})
		if err != nil {
			return err
		}
		return render(out, o.output, rows, []string{o.top, "bytes", "packets", "sessions"}, func(r store.TopRow) []string {
			return []string{r.Key, u(r.Bytes), u(r.Packets), u(r.Sessions)}
		})
	case o.series != "":
		pts, err := st.Series(ctx, store.SeriesQuery{Scope: sc, Step: o.step, Metric: o.metric, Device: o.device, Agg: o.agg,
			Filter: expr, Dimension: o.series, By: by, Limit: o.limit})
		if err != nil {
			return err
		}
		val := o.by
		if o.metric != "" {
			val = o.agg + "(" + o.metric + ")"
		}
		return render(out, o.output, pts, []string{"time", o.series, val}, func(p store.Point) []string {
			return []string{p.Time.Format(time.RFC3339), p.Key, strconv.FormatFloat(p.Value, 'f', -1, 64)}
		})
	case o.matrix != "":
		cells, err := st.Matrix(ctx, store.MatrixQuery{Scope: sc, Filter: expr, By: o.matrix, Measure: by})
		if err != nil {
			return err
		}
		if o.limit > 0 && len(cells) > o.limit { // cells come largest first
			cells = cells[:o.limit]
		}
		return render(out, o.output, cells, []string{"src." + o.matrix, "dst." + o.matrix, o.by}, func(c store.Cell) []string {
			return []string{c.Src, c.Dst, u(c.Value)}
		})
	}
	page, err := st.Search(ctx, store.SearchQuery{Scope: sc, Filter: expr, Limit: o.limit, Cursor: o.cursor})
	if err != nil {
		return err
	}
	err = render(out, o.output, page.Sessions,
		[]string{"end", "uid", "seq", "proto", "src", "dst", "app", "state", "bytes", "packets", "duration"},
		func(s schema.Session) []string {
			return []string{s.End.Format(time.RFC3339Nano), s.UID, u(uint64(s.Seq)), s.Transport,
				addrPort(s.Orig), addrPort(s.Resp), s.App, s.ConnState,
				u(s.OrigBytes + s.RespBytes), u(s.OrigPkts + s.RespPkts), s.End.Sub(s.Start).String()}
		})
	if err == nil && page.Next != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "more: --cursor %s\n", page.Next)
	}
	return err
}

// render writes rows as an aligned table or as JSON lines.
func render[T any](w io.Writer, format string, rows []T, header []string, cells func(T) []string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, r := range rows {
		c := cells(r)
		for i := range c {
			if c[i] == "" {
				c[i] = "-" // an empty value (no app, no segment) stays visible
			}
		}
		fmt.Fprintln(tw, strings.Join(c, "\t"))
	}
	return tw.Flush()
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func addrPort(e schema.Endpoint) string {
	if e.IP.Is6() && !e.IP.Is4In6() {
		return "[" + e.IP.String() + "]:" + strconv.Itoa(int(e.Port))
	}
	return e.IP.Unmap().String() + ":" + strconv.Itoa(int(e.Port))
}

// parseWhen reads --since/--until: RFC 3339, a date, or a duration ago.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64); err == nil && strings.HasSuffix(s, "d") && n >= 0 {
		return now.Add(-time.Duration(n * 24 * float64(time.Hour))), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, a date (2006-01-02) or a duration ago (24h)", s)
}

// deviceRow is a device's table row; vendor, OS and names come from its
// profile (docs/devices.md).
func deviceRow(d schema.Device) []string {
	var p devices.Profile
	_ = json.Unmarshal(d.Attributes, &p) // a device without a profile still has its columns
	var vendor, os string
	if p.Vendor != nil {
		vendor = p.Vendor.Name
	}
	if p.OS != nil {
		os = p.OS.Name
	}
	var names []string
	for _, n := range p.Names {
		names = append(names, n.Name)
	}
	return []string{d.ID, d.Category, vendor, os, strings.Join(names, ","), strings.Join(d.IPs, ","), d.LastSeen.Format(time.RFC3339)}
}

// findingRow is a finding's table row; the summary is its evidence's.
func findingRow(f schema.Finding) []string {
	var ev struct{ Summary string }
	_ = json.Unmarshal(f.Evidence, &ev) // a finding without evidence still has its columns
	return []string{f.Time.Format(time.RFC3339), f.Detector, f.Rule, f.Severity, f.State, strings.Join(f.Entities, ","), ev.Summary}
}
