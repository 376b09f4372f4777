// Package profile evaluates AWS IoT Device Defender security profiles:
// the same JSON, the same behaviours (value criteria, statistical
// thresholds, ML detection) and the same alarm rules
// (consecutiveDatapointsToAlarm/Clear, suppressAlerts), applied to the
// device metrics devices report and to the same metrics derived from
// sessions, so that devices and VMs without an agent are covered too.
// Time comes from the metrics and sessions, never from the clock, and
// memory is bounded by the caps of Config. docs/profiles.md describes
// the file format, the models and the differences from AWS.
package profile

// SecurityProfile is the CreateSecurityProfile request body, as
// `aws iot create-security-profile --cli-input-json` takes it. Fields
// AWS adds in describe-security-profile output (arn, version, dates)
// are accepted on import and dropped. Which devices a profile applies
// to is not in this JSON (AWS attaches profiles with a separate call):
// Osprey reads it from Config.Targets.
type SecurityProfile struct {
	SecurityProfileName         string                 `json:"securityProfileName"`
	SecurityProfileDescription  string                 `json:"securityProfileDescription,omitempty"`
	Behaviors                   []Behavior             `json:"behaviors,omitempty"`
	AlertTargets                map[string]AlertTarget `json:"alertTargets,omitempty"`
	AdditionalMetricsToRetain   []string               `json:"additionalMetricsToRetain,omitempty"` // deprecated by AWS, kept for round trips
	AdditionalMetricsToRetainV2 []MetricToRetain       `json:"additionalMetricsToRetainV2,omitempty"`
	MetricsExportConfig         *MetricsExportConfig   `json:"metricsExportConfig,omitempty"`
	Tags                        []Tag                  `json:"tags,omitempty"`
}

// Behavior is one thing a device is expected to do: a metric and the
// criteria by which its values are normal.
type Behavior struct {
	Name            string           `json:"name"`
	Metric          string           `json:"metric,omitempty"`
	MetricDimension *MetricDimension `json:"metricDimension,omitempty"`
	Criteria        *Criteria        `json:"criteria,omitempty"`
	SuppressAlerts  *bool            `json:"suppressAlerts,omitempty"`
	ExportMetric    *bool            `json:"exportMetric,omitempty"`
}

// Criteria says when a metric's value is normal. Exactly one of Value,
// StatisticalThreshold and MLDetectionConfig is set.
type Criteria struct {
	ComparisonOperator           string                `json:"comparisonOperator,omitempty"`
	Value                        *MetricValue          `json:"value,omitempty"`
	DurationSeconds              *int                  `json:"durationSeconds,omitempty"`
	ConsecutiveDatapointsToAlarm *int                  `json:"consecutiveDatapointsToAlarm,omitempty"`
	ConsecutiveDatapointsToClear *int                  `json:"consecutiveDatapointsToClear,omitempty"`
	StatisticalThreshold         *StatisticalThreshold `json:"statisticalThreshold,omitempty"`
	MLDetectionConfig            *MLDetectionConfig    `json:"mlDetectionConfig,omitempty"`
}

// MetricValue is the value a metric is compared with; the operator
// decides which field is used. The sets are tagged omitzero: an empty
// set ([]) is a value and is written back, an absent one is not.
type MetricValue struct {
	Count   *int64    `json:"count,omitempty"`
	Number  *float64  `json:"number,omitempty"`
	CIDRs   []string  `json:"cidrs,omitzero"`
	Ports   []int     `json:"ports,omitzero"`
	Numbers []float64 `json:"numbers,omitzero"`
	Strings []string  `json:"strings,omitzero"`
}

// StatisticalThreshold compares a device with a percentile of the
// values of all the devices the profile applies to.
type StatisticalThreshold struct {
	Statistic string `json:"statistic,omitempty"`
}

// MLDetectionConfig asks for anomalies from a learned baseline at a
// confidence of LOW, MEDIUM or HIGH.
type MLDetectionConfig struct {
	ConfidenceLevel string `json:"confidenceLevel"`
}

// MetricDimension narrows a cloud-side metric (AWS: a TOPIC_FILTER).
type MetricDimension struct {
	DimensionName string `json:"dimensionName"`
	Operator      string `json:"operator,omitempty"` // IN (default) or NOT_IN
}

// AlertTarget is where AWS sends alerts (SNS); kept for round trips,
// Osprey sends findings to its own outputs.
type AlertTarget struct {
	AlertTargetArn string `json:"alertTargetArn"`
	RoleArn        string `json:"roleArn"`
}

// MetricToRetain is a metric AWS keeps without a behaviour.
type MetricToRetain struct {
	Metric          string           `json:"metric"`
	MetricDimension *MetricDimension `json:"metricDimension,omitempty"`
	ExportMetric    *bool            `json:"exportMetric,omitempty"`
}

// MetricsExportConfig is AWS's metrics export (an MQTT topic).
type MetricsExportConfig struct {
	MQTTTopic string `json:"mqttTopic"`
	RoleArn   string `json:"roleArn"`
}

// Tag is AWS's resource tag, capitalised as AWS writes it.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}
