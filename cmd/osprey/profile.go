package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/detect/profile"
)

func newProfileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Check and export AWS IoT Device Defender security profiles",
		Long: `Security profiles are AWS IoT Device Defender's JSON, as create-security-profile
takes it or describe-security-profile prints it, one per file or an array
(docs/profiles.md). detect.profiles.files applies them to reported and
session-derived device metrics.`,
	}
	validate := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate profile files as AWS would: errors name the file, profile, behaviour and field",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ps, err := profile.Load(files...)
			if err != nil {
				return err
			}
			behaviours := 0
			for _, p := range ps {
				behaviours += len(p.Behaviors)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d profiles, %d behaviours: valid\n", len(ps), behaviours)
			return err
		},
	}
	var all bool
	export := &cobra.Command{
		Use:   "export [FILE...]",
		Short: "Write profiles as JSON AWS takes back (create-security-profile --cli-input-json)",
		Long: `export reads profile files — or, with --configured, those of
detect.profiles.files — and writes them as JSON AWS accepts: one profile as
the create-security-profile request body, several as an array. Read-only
fields of describe-security-profile output (ARN, version, dates) are left
out.`,
		RunE: func(cmd *cobra.Command, files []string) error {
			if all {
				cfg, _, err := g.load()
				if err != nil {
					return err
				}
				files = append(files, cfg.Detect.Profiles.Files...)
			}
			if len(files) == 0 {
				return fmt.Errorf("no profile files: name some, or --configured with detect.profiles.files set")
			}
			ps, err := profile.Load(files...)
			if err != nil {
				return err
			}
			return profile.Export(cmd.OutOrStdout(), ps)
		},
	}
	export.Flags().BoolVar(&all, "configured", false, "export the profiles of detect.profiles.files of the configuration")
	cmd.AddCommand(validate, export)
	return cmd
}
