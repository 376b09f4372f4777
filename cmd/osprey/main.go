// Command osprey is Osprey's one binary: every part of the platform is a
// subcommand. This package only wires components together.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// globals are the flags every subcommand shares.
type globals struct {
	configPath string
	logLevel   string
	logFormat  string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "osprey:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "osprey",
		Short:         "Network detection and response and network telemetry for cloud and IoT/OT fleets",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "", "YAML configuration file (see docs/configuration.md)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "debug, info, warn or error (overrides log.level)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "", "text or json (overrides log.format)")
	root.AddCommand(newRunCmd(g), newReadCmd(g), newSensorCmd(g), newQueryCmd(g), newPolicyCmd(g), newSegmentsCmd(g), newFindingsCmd(g), newProfileCmd(g), newTokenCmd(g), newServeCmd(g), newDemoCmd(g), newSynthCmd(), newVersionCmd())
	return root
}

// load reads the configuration (defaults when no file is given), applies
// the logging flags and installs the slog logger.
func (g *globals) load() (config.Config, *slog.Logger, error) {
	cfg := config.DefaultConfig()
	if g.configPath != "" {
		var err error
		if cfg, err = config.Load(g.configPath); err != nil {
			return cfg, nil, err
		}
	}
	if g.logLevel != "" {
		cfg.Log.Level = g.logLevel
	}
	if g.logFormat != "" {
		cfg.Log.Format = g.logFormat
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.Log.Level)))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.Log.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	return cfg, slog.New(h), nil
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "osprey %s\n", version)
			return err
		},
	}
}
