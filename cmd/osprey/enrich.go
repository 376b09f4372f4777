package main

import (
	"context"
	"fmt"
	"log/slog"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/enrich"
	"github.com/osprey-ndr/osprey/internal/enrich/assets"
	"github.com/osprey-ndr/osprey/internal/enrich/intel"
)

// newEnricher builds the enrichment stage from the enrich section; nil
// when no source is configured.
func newEnricher(ctx context.Context, cfg config.Config, log *slog.Logger) (*enrich.Enricher, error) {
	c := cfg.Enrich
	ec := enrich.Config{Assets: c.Assets, CIDRs: c.CIDRs, AWSIPRanges: c.AWSIPRanges, GeoIP: c.GeoIP, Poll: c.Poll}
	for _, f := range c.Intel {
		ec.Intel = append(ec.Intel, intel.FeedConfig{Name: f.Name, Path: f.Path, Format: f.Format, Column: f.Column})
	}
	if e := c.EC2; e != nil {
		var opts []func(*awsconfig.LoadOptions) error
		if e.Profile != "" {
			opts = append(opts, awsconfig.WithSharedConfigProfile(e.Profile))
		}
		aws, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("enrich.ec2: AWS configuration: %w", err)
		}
		ec.AWS, ec.EC2Interval = aws, e.Interval
		ec.EC2 = &assets.EC2Config{Regions: e.Regions, Endpoint: e.Endpoint, TagKeys: e.TagKeys}
	}
	if !ec.Enabled() {
		return nil, nil
	}
	en, err := enrich.New(ctx, ec, log)
	if err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	return en, nil
}
