// Package awss3 builds the S3 clients that the flow-log collector and
// the OCSF output share: AWS or an S3-compatible store, credentials from
// the configuration or the SDK's default chain.
package awss3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Options are the keys of an S3 section that say how to connect.
type Options struct {
	Region, Profile                    string
	AccessKey, SecretKey, SessionToken string
	Endpoint                           string // an S3-compatible store
	PathStyle                          bool
}

// New builds a client; tune sets what the caller needs besides (retries,
// checksums). It reads the environment and shared files only; nothing is
// contacted.
func New(o Options, tune func(*s3.Options)) (*s3.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, o.SessionToken)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if o.Endpoint == "" {
			return nil, errors.New("region: none configured or found in the environment")
		}
		cfg.Region = "us-east-1" // S3-compatible stores sign with it when they have no regions
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		if tune != nil {
			tune(so)
		}
	}), nil
}
