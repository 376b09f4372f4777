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

	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/store"
)

func newPolicyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check baseline and segmentation policies, and test them over stored history",
		Long: `Policies are YAML files of rules about which traffic may flow (docs/policies.md).
The policy detector checks every session against them as it streams; these
commands check the files and ask what they would have reported.`,
	}
	cmd.AddCommand(newPolicyTestCmd(g), newPolicyCheckCmd())
	return cmd
}

type policyTestOpts struct {
	store, since, until, tenant, output string
	examples                            int
}

func newPolicyTestCmd(g *globals) *cobra.Command {
	o := &policyTestOpts{}
	cmd := &cobra.Command{
		Use:   "test --store DIR --since 7d POLICY.yaml...",
		Short: "Run policies over stored sessions (what-if) and list the violations they would have raised",
		Long: `test runs the policy files over every stored session of the range, as the
policy detector would have seen them, and prints per rule the session records
that broke it, the findings it would have raised (distinct dedupe keys) and
the first few as examples. Nothing is written to the store.`,
		Example: `  osprey policy test --store osprey-data --since 7d segmentation.yaml
  osprey policy test --store osprey-data --since 2026-03-01 --until 2026-03-08 --output json baseline.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPolicyTest(cmd, g, o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "store", "", "the embedded store's directory (default: store.path of the configuration)")
	f.StringVar(&o.since, "since", "", "from this time: RFC 3339, a date, or a duration ago (7d, 24h)")
	f.StringVar(&o.until, "until", "", "to this time (exclusive)")
	f.StringVar(&o.tenant, "tenant", "", "tenant (default: sensor.tenant of the configuration)")
	f.IntVar(&o.examples, "examples", 5, "example findings shown per rule")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	return cmd
}

func runPolicyTest(cmd *cobra.Command, g *globals, o *policyTestOpts, files []string) error {
	cfg, _, err := g.load()
	if err != nil {
		return err
	}
	if o.output != "table" && o.output != "json" {
		return fmt.Errorf("--output %q: want table or json", o.output)
	}
	set, err := policy.LoadFiles(files...)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	q := policy.WhatIfQuery{Scope: store.Scope{Tenant: cfg.Sensor.Tenant}, Examples: o.examples}
	if o.tenant != "" {
		q.Tenant = o.tenant
	}
	if q.Since, err = parseWhen(o.since, now); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if q.Until, err = parseWhen(o.until, now); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	ctx := cmd.Context()
	st, err := openStore(ctx, cfg, o.store, false)
	if err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	defer st.Close()
	res, err := policy.WhatIf(ctx, st, set, q)
	if err != nil {
		return err
	}
	if o.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printWhatIf(cmd.OutOrStdout(), res, set.Rules())
}

// printWhatIf writes the per-rule table, then each rule's examples.
func printWhatIf(w io.Writer, res policy.WhatIfResult, rules int) error {
	fmt.Fprintf(w, "%d session records checked against %d rules: %d rules would have fired", res.Sessions, rules, len(res.Rules))
	if res.EvalErrors > 0 {
		fmt.Fprintf(w, " (%d CEL evaluations failed)", res.EvalErrors)
	}
	fmt.Fprintln(w)
	if len(res.Rules) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPOLICY\tRULE\tSEVERITY\tSESSIONS\tFINDINGS")
	for _, r := range res.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", r.Policy, r.Rule, r.Severity, r.Sessions, r.Findings)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range res.Rules {
		fmt.Fprintf(w, "\n%s/%s, first %d of %d findings:\n", r.Policy, r.Rule, len(r.Examples), r.Findings)
		for _, e := range r.Examples {
			fmt.Fprintf(w, "  %s  %s  [%s]  %s\n", e.Time.UTC().Format(time.RFC3339), e.Summary, strings.Join(e.Entities, " "), strings.Join(e.Sessions, " "))
		}
	}
	return nil
}

func newPolicyCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check POLICY.yaml...",
		Short: "Validate policy files: errors name the file, line, rule and field",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			set, err := policy.LoadFiles(files...)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), strconv.Itoa(len(set.Policies()))+" policies, "+strconv.Itoa(set.Rules())+" rules: valid")
			return err
		},
	}
}
