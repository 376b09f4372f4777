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
	Time           int64            `json:"time" parquet:"time"`
	ClassUID       int              `json:"class_uid" parquet:"class_uid"`
	ClassName      string           `json:"class_name" parquet:"class_name"`
	CategoryUID    int              `json:"category_uid" parquet:"category_uid"`
	CategoryName   string           `json:"category_name" parquet:"category_name"`
	ActivityID     int              `json:"activity_id" parquet:"activity_id"`
	ActivityName   string           `json:"activity_name" parquet:"activity_name"`
	TypeUID        int64            `json:"type_uid" parquet:"type_uid"`
	TypeName       string           `json:"type_name" parquet:"type_name"`
	SeverityID     int              `json:"severity_id" parquet:"severity_id"`
	Severity       string           `json:"severity" parquet:"severity"`
	StartTime      int64            `json:"start_time,omitempty" parquet:"start_time,optional"`
	EndTime        int64            `json:"end_time,omitempty" parquet:"end_time,optional"`
	Duration       int64            `json:"duration" parquet:"duration"`
	TimezoneOffset int              `json:"timezone_offset" parquet:"timezone_offset"`
	StatusID       int              `json:"status_id,omitempty" parquet:"status_id,optional"`
	Status         string           `json:"status,omitempty" parquet:"status,optional"`
	StatusCode     string           `json:"status_code,omitempty" parquet:"status_code,optional"`
	StatusDetail   string           `json:"status_detail,omitempty" parquet:"status_detail,optional"`
	Metadata       metadata         `json:"metadata" parquet:"metadata"`
	SrcEndpoint    *networkEndpoint `json:"src_endpoint,omitempty" parquet:"src_endpoint"`
	DstEndpoint    networkEndpoint  `json:"dst_endpoint" parquet:"dst_endpoint"`
	ConnectionInfo *connectionInfo  `json:"connection_info,omitempty" parquet:"connection_info"`
	Traffic        *networkTraffic  `json:"traffic,omitempty" parquet:"traffic"`
	AppName        string           `json:"app_name,omitempty" parquet:"app_name,optional"`
	TLS            *tlsInfo         `json:"tls,omitempty" parquet:"tls"`
	URL            *urlInfo         `json:"url,omitempty" parquet:"url"`
	JA4            []ja4Fingerprint `json:"ja4_fingerprint_list,omitempty" parquet:"ja4_fingerprint_list,list"`
	Observables    []observable     `json:"observables,omitempty" parquet:"observables,list"`
	Unmapped       map[string]any   `json:"unmapped,omitempty" parquet:"-"`
	// UnmappedParquet is Unmapped as writeParquet writes it.
	UnmappedParquet map[string]string `json:"-" parquet:"unmapped,optional"`
}

// detectionFinding is class Detection Finding (2004).
type detectionFinding struct {
	Time            int64          `json:"time" parquet:"time"`
	ClassUID        int            `json:"class_uid" parquet:"class_uid"`
	ClassName       string         `json:"class_name" parquet:"class_name"`
	CategoryUID     int            `json:"category_uid" parquet:"category_uid"`
	CategoryName    string         `json:"category_name" parquet:"category_name"`
	ActivityID      int            `json:"activity_id" parquet:"activity_id"`
	ActivityName    string         `json:"activity_name" parquet:"activity_name"`
	TypeUID         int64          `json:"type_uid" parquet:"type_uid"`
	TypeName        string         `json:"type_name" parquet:"type_name"`
	SeverityID      int            `json:"severity_id" parquet:"severity_id"`
	Severity        string         `json:"severity" parquet:"severity"`
	StartTime       int64          `json:"start_time,omitempty" parquet:"start_time,optional"`
	EndTime         int64          `json:"end_time,omitempty" parquet:"end_time,optional"`
	Count           int            `json:"count,omitempty" parquet:"count,optional"`
	TimezoneOffset  int            `json:"timezone_offset" parquet:"timezone_offset"`
	Message         string         `json:"message,omitempty" parquet:"message,optional"`
	StatusID        int            `json:"status_id" parquet:"status_id"`
	Status          string         `json:"status" parquet:"status"`
	StatusDetail    string         `json:"status_detail,omitempty" parquet:"status_detail,optional"`
	Comment         string         `json:"comment,omitempty" parquet:"comment,optional"`
	ConfidenceID    int            `json:"confidence_id,omitempty" parquet:"confidence_id,optional"`
	Confidence      string         `json:"confidence,omitempty" parquet:"confidence,optional"`
	ConfidenceScore *int           `json:"confidence_score,omitempty" parquet:"confidence_score"`
	Metadata        metadata       `json:"metadata" parquet:"metadata"`
	FindingInfo     findingInfo    `json:"finding_info" parquet:"finding_info"`
	Evidences       []evidence     `json:"evidences,omitempty" parquet:"evidences,list"`
	Resources       []resource     `json:"resources,omitempty" parquet:"resources,list"`
	Observables     []observable   `json:"observables,omitempty" parquet:"observables,list"`
	Unmapped        map[string]any `json:"unmapped,omitempty" parquet:"-"`
	// UnmappedParquet is Unmapped as writeParquet writes it.
	UnmappedParquet map[string]string `json:"-" parquet:"unmapped,optional"`
}

type metadata struct {
	Version        string  `json:"version" parquet:"version"`
	Product        product `json:"product" parquet:"product"`
	UID            string  `json:"uid,omitempty" parquet:"uid,optional"`
	CorrelationUID string  `json:"correlation_uid,omitempty" parquet:"correlation_uid,optional"`
	Sequence       *int64  `json:"sequence,omitempty" parquet:"sequence"`
	TenantUID      string  `json:"tenant_uid,omitempty" parquet:"tenant_uid,optional"`
	LogName        string  `json:"log_name" parquet:"log_name"`
}

type product struct {
	Name       string `json:"name" parquet:"name"`
	VendorName string `json:"vendor_name" parquet:"vendor_name"`
	Version    string `json:"version,omitempty" parquet:"version,optional"`
}

type networkEndpoint struct {
	IP              string            `json:"ip,omitempty" parquet:"ip,optional"`
	Port            int               `json:"port,omitempty" parquet:"port,optional"`
	MAC             string            `json:"mac,omitempty" parquet:"mac,optional"`
	Hostname        string            `json:"hostname,omitempty" parquet:"hostname,optional"`
	Name            string            `json:"name,omitempty" parquet:"name,optional"`
	UID             string            `json:"uid,omitempty" parquet:"uid,optional"`
	SvcName         string            `json:"svc_name,omitempty" parquet:"svc_name,optional"`
	InstanceUID     string            `json:"instance_uid,omitempty" parquet:"instance_uid,optional"`
	InterfaceUID    string            `json:"interface_uid,omitempty" parquet:"interface_uid,optional"`
	SubnetUID       string            `json:"subnet_uid,omitempty" parquet:"subnet_uid,optional"`
	VpcUID          string            `json:"vpc_uid,omitempty" parquet:"vpc_uid,optional"`
	Zone            string            `json:"zone,omitempty" parquet:"zone,optional"`
	IntermediateIPs []string          `json:"intermediate_ips,omitempty" parquet:"intermediate_ips,list"`
	Location        *location         `json:"location,omitempty" parquet:"location"`
	AS              *autonomousSystem `json:"autonomous_system,omitempty" parquet:"autonomous_system"`
}

type location struct {
	Country string `json:"country,omitempty" parquet:"country,optional"`
	City    string `json:"city,omitempty" parquet:"city,optional"`
}

type autonomousSystem struct {
	Number int    `json:"number,omitempty" parquet:"number,optional"`
	Name   string `json:"name,omitempty" parquet:"name,optional"`
}

type connectionInfo struct {
	ProtocolNum   int    `json:"protocol_num" parquet:"protocol_num"`
	ProtocolName  string `json:"protocol_name,omitempty" parquet:"protocol_name,optional"`
	ProtocolVerID int    `json:"protocol_ver_id,omitempty" parquet:"protocol_ver_id,optional"`
	DirectionID   int    `json:"direction_id" parquet:"direction_id"`
	Direction     string `json:"direction,omitempty" parquet:"direction,optional"`
	BoundaryID    int    `json:"boundary_id,omitempty" parquet:"boundary_id,optional"`
	Boundary      string `json:"boundary,omitempty" parquet:"boundary,optional"`
	UID           string `json:"uid,omitempty" parquet:"uid,optional"`
	TCPFlags      int    `json:"tcp_flags,omitempty" parquet:"tcp_flags,optional"`
}

type networkTraffic struct {
	Bytes      uint64 `json:"bytes" parquet:"bytes"`
	BytesOut   uint64 `json:"bytes_out" parquet:"bytes_out"`
	BytesIn    uint64 `json:"bytes_in" parquet:"bytes_in"`
	Packets    uint64 `json:"packets" parquet:"packets"`
	PacketsOut uint64 `json:"packets_out" parquet:"packets_out"`
	PacketsIn  uint64 `json:"packets_in" parquet:"packets_in"`
}

type tlsInfo struct {
	Version string `json:"version" parquet:"version"`
	SNI     string `json:"sni,omitempty" parquet:"sni,optional"`
	Cipher  string `json:"cipher,omitempty" parquet:"cipher,optional"`
	SANs    []san  `json:"sans,omitempty" parquet:"sans,list"`
}

type san struct {
	Name string `json:"name" parquet:"name"`
	Type string `json:"type" parquet:"type"`
}

type urlInfo struct {
	URLString   string `json:"url_string,omitempty" parquet:"url_string,optional"`
	Scheme      string `json:"scheme,omitempty" parquet:"scheme,optional"`
	Hostname    string `json:"hostname,omitempty" parquet:"hostname,optional"`
	Path        string `json:"path,omitempty" parquet:"path,optional"`
	QueryString string `json:"query_string,omitempty" parquet:"query_string,optional"`
	Port        int    `json:"port,omitempty" parquet:"port,optional"`
}

type ja4Fingerprint struct {
	TypeID int    `json:"type_id" parquet:"type_id"`
	Type   string `json:"type" parquet:"type"`
	Value  string `json:"value" parquet:"value"`
}

type observable struct {
	Name   string `json:"name" parquet:"name"`
	TypeID int    `json:"type_id" parquet:"type_id"`
	Type   string `json:"type" parquet:"type"`
	Value  string `json:"value" parquet:"value"`
}

type findingInfo struct {
	UID           string   `json:"uid" parquet:"uid"`
	Title         string   `json:"title" parquet:"title"`
	Desc          string   `json:"desc,omitempty" parquet:"desc,optional"`
	Types         []string `json:"types,omitempty" parquet:"types,list"`
	CreatedTime   int64    `json:"created_time,omitempty" parquet:"created_time,optional"`
	FirstSeenTime int64    `json:"first_seen_time,omitempty" parquet:"first_seen_time,optional"`
	LastSeenTime  int64    `json:"last_seen_time,omitempty" parquet:"last_seen_time,optional"`
	Analytic      analytic `json:"analytic" parquet:"analytic"`
	Attacks       []attack `json:"attacks,omitempty" parquet:"attacks,list"`
}

type analytic struct {
	UID    string `json:"uid,omitempty" parquet:"uid,optional"`
	Name   string `json:"name,omitempty" parquet:"name,optional"`
	TypeID int    `json:"type_id" parquet:"type_id"`
	Type   string `json:"type,omitempty" parquet:"type,optional"`
}

type attack struct {
	Technique    *technique `json:"technique,omitempty" parquet:"technique"`
	SubTechnique *technique `json:"sub_technique,omitempty" parquet:"sub_technique"`
	Tactic       *technique `json:"tactic,omitempty" parquet:"tactic"`
}

// technique is also the shape of sub_technique and tactic: uid and name.
type technique struct {
	UID  string `json:"uid" parquet:"uid"`
	Name string `json:"name,omitempty" parquet:"name,optional"`
}

type evidence struct {
	Data json.RawMessage `json:"data" parquet:"data,json"`
}

type resource struct {
	UID  string `json:"uid" parquet:"uid"`
	Type string `json:"type" parquet:"type"`
}
