package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// findingsOpts are the flags the findings subcommands share.
type findingsOpts struct {
	store, tenant, note string
}

func newFindingsCmd(g *globals) *cobra.Command {
	o := &findingsOpts{}
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "Acknowledge stored findings and give verdicts (false and benign positives become suppressions)",
		Long: `findings changes the state of stored findings (docs/findings.md); osprey query
--findings lists them. A false- or benign-positive verdict becomes a
suppression: it closes the stored findings it matches (history) and is added
to detect.suppression_file, which a running osprey run or sensor reloads, so
that later reports of the same detector, rule and entities raise nothing.`,
		Example: `  osprey findings ack --store osprey-data 31cc0da019d709680559e4c4c574c868
  osprey findings verdict --store osprey-data 31cc0da0… false_positive --note "the vulnerability scanner"
  osprey findings suppressions --config osprey.yaml`,
	}
	cmd.PersistentFlags().StringVar(&o.store, "store", "", "the embedded store's directory (default: store.path of the configuration)")
	cmd.PersistentFlags().StringVar(&o.tenant, "tenant", "", "tenant (default: sensor.tenant of the configuration)")
	ack := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge an open finding",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeFinding(cmd, g, o, args[0], "")
		},
	}
	verdict := &cobra.Command{
		Use:   "verdict ID true_positive|false_positive|benign_positive",
		Short: "Give a finding a verdict; false and benign positives suppress it and its like",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeFinding(cmd, g, o, args[0], args[1])
		},
	}
	verdict.Flags().StringVar(&o.note, "note", "", "why: kept with the finding and the suppression")
	list := &cobra.Command{
		Use:   "suppressions",
		Short: "List the suppressions of detect.suppression_file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			if cfg.Detect.SuppressionFile == "" {
				return fmt.Errorf("detect.suppression_file is not set in the configuration")
			}
			sups, err := detect.ReadSuppressionFile(cfg.Detect.SuppressionFile)
			if err != nil {
				return err
			}
			return render(cmd.OutOrStdout(), "table", sups, []string{"id", "detector", "rule", "entities", "verdict", "expires", "hits", "note"},
				func(s detect.Suppression) []string {
					exp := "never"
					if !s.Expires.IsZero() {
						exp = s.Expires.Format(time.RFC3339)
					}
					return []string{s.ID, s.Detector, s.Rule, fmt.Sprint(s.Entities), s.Verdict, exp, u(s.Hits), s.Note}
				})
		},
	}
	cmd.AddCommand(ack, verdict, list)
	return cmd
}

// changeFinding acknowledges a stored finding (verdict "" or
// true_positive), or suppresses it and what it matches.
func changeFinding(cmd *cobra.Command, g *globals, o *findingsOpts, id, verdict string) error {
	cfg, _, err := g.load()
	if err != nil {
		return err
	}
	tenant := cfg.Sensor.Tenant
	if o.tenant != "" {
		tenant = o.tenant
	}
	ctx := cmd.Context()
	st, err := openStore(ctx, cfg, o.store, false)
	if err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	defer st.Close()
	found, err := st.Findings(ctx, store.FindingQuery{Scope: store.Scope{Tenant: tenant}, ID: id})
	if err != nil {
		return err
	}
	if len(found.Findings) == 0 {
		return fmt.Errorf("no finding %s in tenant %q", id, tenant)
	}
	f := found.Findings[0]
	if verdict == "" || verdict == detect.TruePositive {
		if f, err = detect.AcknowledgeStored(f, verdict, o.note); err != nil {
			return err
		}
		if err := st.UpsertFindings(ctx, []schema.Finding{f}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "finding %s acknowledged\n", id)
		return err
	}
	return suppressFinding(ctx, cmd, cfg, st, f, verdict, o.note)
}

// suppressFinding turns a false- or benign-positive verdict into a
// suppression, applies it to the stored findings of the same detector and
// saves it for the engines.
func suppressFinding(ctx context.Context, cmd *cobra.Command, cfg config.Config, st store.Store, f schema.Finding, verdict, note string) error {
	s, err := detect.SuppressionFor(f, verdict, note, time.Now().UTC(), cfg.Detect.SuppressFor)
	if err != nil {
		return err
	}
	q := store.FindingQuery{Scope: store.Scope{Tenant: f.Tenant}, Detector: f.Detector, Rule: f.Rule, Limit: 10000}
	n := 0
	for {
		page, err := st.Findings(ctx, q)
		if err != nil {
			return err
		}
		closed, err := detect.ApplySuppressions(page.Findings, []detect.Suppression{s})
		if err != nil {
			return err
		}
		if err := st.UpsertFindings(ctx, closed); err != nil {
			return err
		}
		n += len(closed)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "suppression %s (%s %s %v): %d stored findings closed as %s\n", s.ID, s.Detector, s.Rule, s.Entities, n, verdict)
	if cfg.Detect.SuppressionFile == "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: detect.suppression_file is not set: later reports will raise findings again")
		return nil
	}
	if err := detect.AddToSuppressionFile(cfg.Detect.SuppressionFile, s); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "saved to %s\n", cfg.Detect.SuppressionFile)
	return err
}
