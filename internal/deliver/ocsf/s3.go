package ocsf

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/osprey-ndr/osprey/internal/deliver"

	"github.com/osprey-ndr/osprey/internal/awss3"
)

// s3Sink writes each group of records (one class, one event day) as an
// object of JSON lines or a Parquet file.
type s3Sink struct {
	cfg     S3Config
	client  *s3.Client
	region  string
	prefix  string
	hourly  bool
	newUUID func() string
	buf     bytes.Buffer
	zw      *gzip.Writer
	pq      parquetFiles
}

func newS3Sink(c S3Config) (*s3Sink, error) {
	client, err := awss3.New(awss3.Options{Region: c.Region, Profile: c.Profile, AccessKey: c.AccessKey, SecretKey: c.SecretKey,
		SessionToken: c.SessionToken, Endpoint: c.Endpoint, PathStyle: c.PathStyle}, func(o *s3.Options) {
		// The delivery loop retries, with its backoff and its counters;
		// the SDK's own retries would only hide the failures from them.
		o.Retryer = aws.NopRetryer{}
		// Checksums only where S3 requires them: many S3-compatible
		// stores refuse the SDK's default streaming checksum trailers.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	if err != nil {
		return nil, err
	}

	prefix := c.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &s3Sink{
		cfg: c, client: client, region: client.Options().Region, prefix: prefix,
		hourly:  strings.Contains(c.KeyTemplate, "{hour}"),
		newUUID: func() string { return uuid.Must(uuid.NewV7()).String() },
	}, nil
}

// group is the record's key with every placeholder filled but {uuid}:
// its class and the UTC day (and hour) of its event, read from the
// record's leading "time", else of its queueing.
func (s *s3Sink) group(r *deliver.Record) string {
	t := r.Queued
	if ms, ok := eventTime(r.Data); ok {
		t = time.UnixMilli(ms)
	}
	t = t.UTC()
	ext := ".json"
	switch {
	case s.cfg.Format == "parquet":
		ext = ".parquet"
	case s.cfg.Gzip:
		ext = ".json.gz"
	}
	rep := []string{
		"{region}", s.region, "{account_id}", s.cfg.AccountID, "{day}", t.Format("20060102"),
		"{class}", className(r.Kind), "{class_uid}", strconv.Itoa(classUID(r.Kind)), "{ext}", ext,
	}
	if s.hourly {
		rep = append(rep, "{hour}", t.Format("15"))
	}
	return s.prefix + strings.NewReplacer(rep...).Replace(s.cfg.KeyTemplate)
}

func (s *s3Sink) write(ctx context.Context, group string, recs []*deliver.Record) error {
	key := strings.ReplaceAll(group, "{uuid}", s.newUUID())
	s.buf.Reset()
	contentType := "application/x-ndjson"
	switch {
	case s.cfg.Format == "parquet":
		contentType = "application/vnd.apache.parquet"
		if err := s.pq.write(&s.buf, recs); err != nil {
			return err
		}
	case s.cfg.Gzip:
		contentType = "application/gzip"
		if s.zw == nil {
			s.zw = gzip.NewWriter(&s.buf)
		} else {
			s.zw.Reset(&s.buf)
		}
		for _, r := range recs {
			s.zw.Write(r.Data)
			s.zw.Write([]byte{'\n'})
		}
		if err := s.zw.Close(); err != nil {
			return err
		}
	default:
		for _, r := range recs {
			s.buf.Write(r.Data)
			s.buf.WriteByte('\n')
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(s.buf.Bytes()),
		ContentLength: aws.Int64(int64(s.buf.Len())),
		ContentType:   aws.String(contentType),
	})
	if err != nil {
		return classifyS3(fmt.Errorf("s3: put s3://%s/%s: %w", s.cfg.Bucket, key, err))
	}
	return nil
}

// configErrors are S3 error codes that say the output's configuration
// (bucket, region, credentials, permissions, clock) is wrong.
var configErrors = []string{
	"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "SignatureDoesNotMatch",
	"NoSuchBucket", "InvalidBucketName", "PermanentRedirect", "AuthorizationHeaderMalformed",
	"ExpiredToken", "InvalidToken", "TokenRefreshRequired", "RequestTimeTooSkewed", "KMS.DisabledException",
	"InvalidSecurity", "UnauthorizedAccess",
}

// ErrConfig marks S3 refusals that a change of configuration, not of the
// records, will end.
var ErrConfig = errors.New("s3 refused the output's configuration (bucket, region, credentials or permissions)")

// classifyS3 tells the delivery loop what an S3 error means. No
// response (connection, DNS, timeout), 5xx, 429 and 408 are outages;
// a refusal of the configuration (403, 404, 401, a redirect to another
// region, or one of configErrors) is retried without limit too, marked
// ErrConfig: it is not the records' fault, dead-lettering them would
// lose them, and the queue keeps them (its bounds drop the oldest)
// until the configuration is fixed. Any other 4xx is retried
// retry.max_attempts times and dead-lettered.
func classifyS3(err error) error {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return deliver.Unavailable(err)
	}
	code := re.HTTPStatusCode()
	var api interface{ ErrorCode() string }
	isConfig := errors.As(err, &api) && slices.Contains(configErrors, api.ErrorCode())
	switch {
	case code == 0 || code >= 500 || code == 429 || code == 408: // 0: no response
		return deliver.Unavailable(err)
	case isConfig || code == 401 || code == 403 || code == 404 || code == 301 || code == 307:
		return deliver.Unavailable(fmt.Errorf("%w: %w", ErrConfig, err))
	}
	return err
}

func (s *s3Sink) close() error { return nil }
