package ocsf

import "encoding/json"

// The OCSF objects the mapping uses, with only the attributes it sets
// (schema version SchemaVersion; the test package holds the attribute
// table every event is validated against). Times are Unix milliseconds
// (timestamp_t). Required attributes have no omitempty.

// Time is the first key of every event: Send finds it there to place an
// object in its eventDay without decoding the record.

// networkActivity is class Network Activity (4001).
type networkActivity struct {
	Time           int64            `json:"time"`
	ClassUID       int              `json:"class_uid"`
	ClassName      string           `json:"class_name"`
	CategoryUID    int              `json:"category_uid"`
	CategoryName   string           `json:"category_name"`
	ActivityID     int              `json:"activity_id"`
	ActivityName   string           `json:"activity_name"`
	TypeUID        int64            `json:"type_uid"`
	TypeName       string           `json:"type_name"`
	SeverityID     int              `json:"severity_id"`
	Severity       string           `json:"severity"`
	StartTime      int64            `json:"start_time,omitempty"`
	EndTime        int64            `json:"end_time,omitempty"`
	Duration       int64            `json:"duration"`
	TimezoneOffset int              `json:"timezone_offset"`
	StatusID       int              `json:"status_id,omitempty"`
	Status         string           `json:"status,omitempty"`
	StatusCode     string           `json:"status_code,omitempty"`
	StatusDetail   string           `json:"status_detail,omitempty"`
	Metadata       metadata         `json:"metadata"`
	SrcEndpoint    *networkEndpoint `json:"src_endpoint,omitempty"`
	DstEndpoint    networkEndpoint  `json:"dst_endpoint"`
	ConnectionInfo *connectionInfo  `json:"connection_info,omitempty"`
	Traffic        *networkTraffic  `json:"traffic,omitempty"`
	AppName        string           `json:"app_name,omitempty"`
	TLS            *tlsInfo         `json:"tls,omitempty"`
	URL            *urlInfo         `json:"url,omitempty"`
	JA4            []ja4Fingerprint `json:"ja4_fingerprint_list,omitempty"`
	Observables    []observable     `json:"observables,omitempty"`
	Unmapped       map[string]any   `json:"unmapped,omitempty"`
}

// detectionFinding is class Detection Finding (2004).
type detectionFinding struct {
	Time            int64          `json:"time"`
	ClassUID        int            `json:"class_uid"`
	ClassName       string         `json:"class_name"`
	CategoryUID     int            `json:"category_uid"`
	CategoryName    string         `json:"category_name"`
	ActivityID      int            `json:"activity_id"`
	ActivityName    string         `json:"activity_name"`
	TypeUID         int64          `json:"type_uid"`
	TypeName        string         `json:"type_name"`
	SeverityID      int            `json:"severity_id"`
	Severity        string         `json:"severity"`
	StartTime       int64          `json:"start_time,omitempty"`
	EndTime         int64          `json:"end_time,omitempty"`
	Count           int            `json:"count,omitempty"`
	TimezoneOffset  int            `json:"timezone_offset"`
	Message         string         `json:"message,omitempty"`
	StatusID        int            `json:"status_id"`
	Status          string         `json:"status"`
	StatusDetail    string         `json:"status_detail,omitempty"`
	Comment         string         `json:"comment,omitempty"`
	ConfidenceID    int            `json:"confidence_id,omitempty"`
	Confidence      string         `json:"confidence,omitempty"`
	ConfidenceScore *int           `json:"confidence_score,omitempty"`
	Metadata        metadata       `json:"metadata"`
	FindingInfo     findingInfo    `json:"finding_info"`
	Evidences       []evidence     `json:"evidences,omitempty"`
	Resources       []resource     `json:"resources,omitempty"`
	Observables     []observable   `json:"observables,omitempty"`
	Unmapped        map[string]any `json:"unmapped,omitempty"`
}

type metadata struct {
	Version        string  `json:"version"`
	Product        product `json:"product"`
	UID            string  `json:"uid,omitempty"`
	CorrelationUID string  `json:"correlation_uid,omitempty"`
	Sequence       *int64  `json:"sequence,omitempty"`
	TenantUID      string  `json:"tenant_uid,omitempty"`
	LogName        string  `json:"log_name"`
}

type product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

type networkEndpoint struct {
	IP              string            `json:"ip,omitempty"`
	Port            int               `json:"port,omitempty"`
	MAC             string            `json:"mac,omitempty"`
	Hostname        string            `json:"hostname,omitempty"`
	Name            string            `json:"name,omitempty"`
	UID             string            `json:"uid,omitempty"`
	SvcName         string            `json:"svc_name,omitempty"`
	InstanceUID     string            `json:"instance_uid,omitempty"`
	InterfaceUID    string            `json:"interface_uid,omitempty"`
	SubnetUID       string            `json:"subnet_uid,omitempty"`
	VpcUID          string            `json:"vpc_uid,omitempty"`
	Zone            string            `json:"zone,omitempty"`
	IntermediateIPs []string          `json:"intermediate_ips,omitempty"`
	Location        *location         `json:"location,omitempty"`
	AS              *autonomousSystem `json:"autonomous_system,omitempty"`
}

type location struct {
	Country string `json:"country,omitempty"`
	City    string `json:"city,omitempty"`
}

type autonomousSystem struct {
	Number int    `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

type connectionInfo struct {
	ProtocolNum   int    `json:"protocol_num"`
	ProtocolName  string `json:"protocol_name,omitempty"`
	ProtocolVerID int    `json:"protocol_ver_id,omitempty"`
	DirectionID   int    `json:"direction_id"`
	Direction     string `json:"direction,omitempty"`
	BoundaryID    int    `json:"boundary_id,omitempty"`
	Boundary      string `json:"boundary,omitempty"`
	UID           string `json:"uid,omitempty"`
	TCPFlags      int    `json:"tcp_flags,omitempty"`
}

type networkTraffic struct {
	Bytes      uint64 `json:"bytes"`
	BytesOut   uint64 `json:"bytes_out"`
	BytesIn    uint64 `json:"bytes_in"`
	Packets    uint64 `json:"packets"`
	PacketsOut uint64 `json:"packets_out"`
	PacketsIn  uint64 `json:"packets_in"`
}

type tlsInfo struct {
	Version string `json:"version"`
	SNI     string `json:"sni,omitempty"`
	Cipher  string `json:"cipher,omitempty"`
	SANs    []san  `json:"sans,omitempty"`
}

type san struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type urlInfo struct {
	URLString   string `json:"url_string,omitempty"`
	Scheme      string `json:"scheme,omitempty"`
	Hostname    string `json:"hostname,omitempty"`
	Path        string `json:"path,omitempty"`
	QueryString string `json:"query_string,omitempty"`
	Port        int    `json:"port,omitempty"`
}

type ja4Fingerprint struct {
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

type observable struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

type findingInfo struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Desc          string   `json:"desc,omitempty"`
	Types         []string `json:"types,omitempty"`
	CreatedTime   int64    `json:"created_time,omitempty"`
	FirstSeenTime int64    `json:"first_seen_time,omitempty"`
	LastSeenTime  int64    `json:"last_seen_time,omitempty"`
	Analytic      analytic `json:"analytic"`
	Attacks       []attack `json:"attacks,omitempty"`
}

type analytic struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type,omitempty"`
}

type attack struct {
	Technique    *technique `json:"technique,omitempty"`
	SubTechnique *technique `json:"sub_technique,omitempty"`
	Tactic       *technique `json:"tactic,omitempty"`
}

// technique is also the shape of sub_technique and tactic: uid and name.
type technique struct {
	UID  string `json:"uid"`
	Name string `json:"name,omitempty"`
}

type evidence struct {
	Data json.RawMessage `json:"data"`
}

type resource struct {
	UID  string `json:"uid"`
	Type string `json:"type"`
}
