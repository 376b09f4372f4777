package ocsf

// The OCSF 1.3.0 attributes the mapping claims, for each class and
// object it writes: their types, requirement levels and enumerations,
// as the schema defines them (github.com/ocsf/ocsf-schema at tag 1.3.0:
// each entry's file, with what it extends — base_event.json,
// network.json, finding.json, _entity.json, endpoint.json — and
// includes/, without profiles, and types, enums and siblings from
// dictionary.json). Every attribute the schema requires of these
// classes and objects is listed. validate checks events against it:
// an attribute not listed here is one the mapping does not claim, and
// fails.

// kind is an OCSF data type as JSON carries it.
type kind uint8

const (
	kString     kind = iota + 1
	kInt             // integer_t
	kLong            // long_t
	kTimestamp       // timestamp_t: long_t, Unix milliseconds
	kFloat           // float_t
	kBool            // boolean_t
	kJSON            // json_t: any JSON value
	kIP              // ip_t
	kMAC             // mac_t
	kHostname        // hostname_t
	kPort            // port_t: integer_t, 0–65535
	kObject          // an OCSF object, named by attr.object
	kFreeObject      // object (unmapped): any JSON object
)

type requirement uint8

const (
	optional requirement = iota
	recommended
	required
)

type attr struct {
	kind   kind
	array  bool
	req    requirement
	object string
	// sibling is the attribute holding the enum value's caption.
	sibling string
	// enum lists the values of an _id attribute and their captions.
	enum map[int]string
}

type class struct {
	file       string
	atLeastOne []string
	attrs      map[string]attr
}

var ocsf130 = map[string]class{
	"network_activity": {
		file: "events/network/network_activity.json",
		attrs: map[string]attr{
			"activity_id":          {kind: kInt, req: required, sibling: "activity_name", enum: map[int]string{0: "Unknown", 1: "Open", 2: "Close", 3: "Reset", 4: "Fail", 5: "Refuse", 6: "Traffic", 7: "Listen", 99: "Other"}},
			"activity_name":        {kind: kString, req: optional},
			"category_uid":         {kind: kInt, req: required, sibling: "category_name"},
			"category_name":        {kind: kString, req: optional},
			"class_uid":            {kind: kInt, req: required, sibling: "class_name"},
			"class_name":           {kind: kString, req: optional},
			"type_uid":             {kind: kLong, req: required, sibling: "type_name"},
			"type_name":            {kind: kString, req: optional},
			"severity_id":          {kind: kInt, req: required, sibling: "severity", enum: map[int]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal", 99: "Other"}},
			"severity":             {kind: kString, req: optional},
			"time":                 {kind: kTimestamp, req: required},
			"start_time":           {kind: kTimestamp, req: optional},
			"end_time":             {kind: kTimestamp, req: optional},
			"duration":             {kind: kLong, req: optional},
			"timezone_offset":      {kind: kInt, req: recommended},
			"status_id":            {kind: kInt, req: recommended, sibling: "status", enum: map[int]string{0: "Unknown", 1: "Success", 2: "Failure", 99: "Other"}},
			"status":               {kind: kString, req: recommended},
			"status_code":          {kind: kString, req: recommended},
			"status_detail":        {kind: kString, req: recommended},
			"metadata":             {kind: kObject, req: required, object: "metadata"},
			"src_endpoint":         {kind: kObject, req: recommended, object: "network_endpoint"},
			"dst_endpoint":         {kind: kObject, req: required, object: "network_endpoint"},
			"connection_info":      {kind: kObject, req: recommended, object: "network_connection_info"},
			"traffic":              {kind: kObject, req: recommended, object: "network_traffic"},
			"app_name":             {kind: kString, req: optional},
			"tls":                  {kind: kObject, req: optional, object: "tls"},
			"url":                  {kind: kObject, req: recommended, object: "url"},
			"ja4_fingerprint_list": {kind: kObject, array: true, req: optional, object: "ja4_fingerprint"},
			"observables":          {kind: kObject, array: true, req: recommended, object: "observable"},
			"unmapped":             {kind: kFreeObject, req: optional},
		},
	},
	"detection_finding": {
		file: "events/findings/detection_finding.json",
		attrs: map[string]attr{
			"time":             {kind: kTimestamp, req: required},
			"class_uid":        {kind: kInt, req: required, sibling: "class_name"},
			"class_name":       {kind: kString, req: optional},
			"category_uid":     {kind: kInt, req: required, sibling: "category_name"},
			"category_name":    {kind: kString, req: optional},
			"activity_id":      {kind: kInt, req: required, sibling: "activity_name", enum: map[int]string{0: "Unknown", 1: "Create", 2: "Update", 3: "Close", 99: "Other"}},
			"activity_name":    {kind: kString, req: optional},
			"type_uid":         {kind: kLong, req: required, sibling: "type_name"},
			"type_name":        {kind: kString, req: optional},
			"severity_id":      {kind: kInt, req: required, sibling: "severity", enum: map[int]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal", 99: "Other"}},
			"severity":         {kind: kString, req: optional},
			"start_time":       {kind: kTimestamp, req: optional},
			"end_time":         {kind: kTimestamp, req: optional},
			"count":            {kind: kInt, req: optional},
			"timezone_offset":  {kind: kInt, req: recommended},
			"message":          {kind: kString, req: recommended},
			"status_id":        {kind: kInt, req: recommended, sibling: "status", enum: map[int]string{0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 99: "Other"}},
			"status":           {kind: kString, req: optional},
			"status_detail":    {kind: kString, req: recommended},
			"comment":          {kind: kString, req: optional},
			"confidence_id":    {kind: kInt, req: recommended, enum: map[int]string{0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 99: "Other"}},
			"confidence":       {kind: kString, req: optional},
			"confidence_score": {kind: kInt, req: optional},
			"metadata":         {kind: kObject, req: required, object: "metadata"},
			"finding_info":     {kind: kObject, req: required, object: "finding_info"},
			"evidences":        {kind: kObject, array: true, req: recommended, object: "evidences"},
			"resources":        {kind: kObject, array: true, req: recommended, object: "resource_details"},
			"observables":      {kind: kObject, array: true, req: recommended, object: "observable"},
			"unmapped":         {kind: kFreeObject, req: optional},
		},
	},
	"metadata": {
		file: "objects/metadata.json",
		attrs: map[string]attr{
			"version":         {kind: kString, req: required},
			"product":         {kind: kObject, req: required, object: "product"},
			"uid":             {kind: kString, req: optional},
			"correlation_uid": {kind: kString, req: optional},
			"sequence":        {kind: kInt, req: optional},
			"tenant_uid":      {kind: kString, req: recommended},
			"log_name":        {kind: kString, req: recommended},
		},
	},
	"product": {
		file: "objects/product.json",
		attrs: map[string]attr{
			"name":        {kind: kString, req: recommended},
			"vendor_name": {kind: kString, req: required},
			"version":     {kind: kString, req: recommended},
		},
	},
	"network_endpoint": {
		file:       "objects/network_endpoint.json",
		atLeastOne: []string{"ip", "uid", "name", "hostname", "svc_name", "instance_uid", "interface_uid", "interface_name"},
		attrs: map[string]attr{
			"ip":                {kind: kIP, req: recommended},
			"port":              {kind: kPort, req: recommended},
			"mac":               {kind: kMAC, req: optional},
			"hostname":          {kind: kHostname, req: recommended},
			"name":              {kind: kString, req: recommended},
			"uid":               {kind: kString, req: recommended},
			"svc_name":          {kind: kString, req: recommended},
			"instance_uid":      {kind: kString, req: recommended},
			"interface_uid":     {kind: kString, req: recommended},
			"subnet_uid":        {kind: kString, req: optional},
			"vpc_uid":           {kind: kString, req: optional},
			"zone":              {kind: kString, req: optional},
			"intermediate_ips":  {kind: kIP, array: true, req: optional},
			"location":          {kind: kObject, req: optional, object: "location"},
			"autonomous_system": {kind: kObject, req: optional, object: "autonomous_system"},
		},
	},
	"location": {
		file:       "objects/location.json",
		atLeastOne: []string{"city", "country", "postal_code", "region"},
		attrs: map[string]attr{
			"country": {kind: kString, req: recommended},
			"city":    {kind: kString, req: recommended},
		},
	},
	"autonomous_system": {
		file:       "objects/autonomous_system.json",
		atLeastOne: []string{"number", "name"},
		attrs: map[string]attr{
			"number": {kind: kInt, req: recommended},
			"name":   {kind: kString, req: recommended},
		},
	},
	"network_connection_info": {
		file: "objects/network_connection_info.json",
		attrs: map[string]attr{
			"protocol_num":    {kind: kInt, req: recommended},
			"protocol_name":   {kind: kString, req: recommended},
			"protocol_ver_id": {kind: kInt, req: recommended, sibling: "protocol_ver", enum: map[int]string{0: "Unknown", 4: "Internet Protocol version 4 (IPv4)", 6: "Internet Protocol version 6 (IPv6)", 99: "Other"}},
			"direction_id":    {kind: kInt, req: required, sibling: "direction", enum: map[int]string{0: "Unknown", 1: "Inbound", 2: "Outbound", 3: "Lateral", 99: "Other"}},
			"direction":       {kind: kString, req: optional},
			"boundary_id":     {kind: kInt, req: recommended, sibling: "boundary", enum: map[int]string{0: "Unknown", 1: "Localhost", 2: "Internal", 3: "External", 4: "Same VPC", 5: "Internet/VPC Gateway", 6: "Virtual Private Gateway", 7: "Intra-region VPC", 8: "Inter-region VPC", 9: "Local Gateway", 10: "Gateway VPC", 11: "Internet Gateway", 99: "Other"}},
			"boundary":        {kind: kString, req: optional},
			"uid":             {kind: kString, req: recommended},
			"tcp_flags":       {kind: kInt, req: optional},
		},
	},
	"network_traffic": {
		file: "objects/network_traffic.json",
		attrs: map[string]attr{
			"bytes":       {kind: kLong, req: recommended},
			"bytes_out":   {kind: kLong, req: optional},
			"bytes_in":    {kind: kLong, req: optional},
			"packets":     {kind: kLong, req: recommended},
			"packets_out": {kind: kLong, req: optional},
			"packets_in":  {kind: kLong, req: optional},
		},
	},
	"tls": {
		file: "objects/tls.json",
		attrs: map[string]attr{
			"version": {kind: kString, req: required},
			"sni":     {kind: kString, req: recommended},
			"cipher":  {kind: kString, req: recommended},
			"sans":    {kind: kObject, array: true, req: optional, object: "san"},
		},
	},
	"san": {
		file: "objects/san.json",
		attrs: map[string]attr{
			"name": {kind: kString, req: required},
			"type": {kind: kString, req: required},
		},
	},
	"url": {
		file:       "objects/url.json",
		atLeastOne: []string{"url_string", "path"},
		attrs: map[string]attr{
			"url_string":   {kind: kString, req: recommended},
			"scheme":       {kind: kString, req: recommended},
			"hostname":     {kind: kHostname, req: recommended},
			"path":         {kind: kString, req: recommended},
			"query_string": {kind: kString, req: recommended},
			"port":         {kind: kPort, req: recommended},
		},
	},
	"ja4_fingerprint": {
		file: "objects/ja4_fingerprint.json",
		attrs: map[string]attr{
			"type_id": {kind: kInt, req: required, sibling: "type", enum: map[int]string{0: "Unknown", 1: "JA4", 2: "JA4Server", 3: "JA4HTTP", 4: "JA4Latency", 5: "JA4X509", 6: "JA4SSH", 7: "JA4TCP", 8: "JA4TCPServer", 9: "JA4TCPScan", 99: "Other"}},
			"type":    {kind: kString, req: optional},
			"value":   {kind: kString, req: required},
		},
	},
	"observable": {
		file: "objects/observable.json",
		attrs: map[string]attr{
			"name":    {kind: kString, req: required},
			"type_id": {kind: kInt, req: required, sibling: "type", enum: map[int]string{0: "Unknown", 1: "Hostname", 2: "IP Address", 3: "MAC Address", 4: "User Name", 5: "Email Address", 6: "URL String", 7: "File Name", 8: "Hash", 9: "Process Name", 10: "Resource UID", 11: "Port", 12: "Subnet", 13: "Command Line", 14: "Country", 15: "Process ID", 16: "HTTP User-Agent", 19: "User Credential ID", 20: "Endpoint", 21: "User", 22: "Email", 23: "Uniform Resource Locator", 24: "File", 25: "Process", 26: "Geo Location", 27: "Container", 30: "Fingerprint", 99: "Other"}},
			"type":    {kind: kString, req: optional},
			"value":   {kind: kString, req: optional},
		},
	},
	"finding_info": {
		file: "objects/finding_info.json",
		attrs: map[string]attr{
			"uid":             {kind: kString, req: required},
			"title":           {kind: kString, req: required},
			"desc":            {kind: kString, req: optional},
			"types":           {kind: kString, array: true, req: optional},
			"created_time":    {kind: kTimestamp, req: optional},
			"first_seen_time": {kind: kTimestamp, req: optional},
			"last_seen_time":  {kind: kTimestamp, req: optional},
			"analytic":        {kind: kObject, req: recommended, object: "analytic"},
			"attacks":         {kind: kObject, array: true, req: optional, object: "attack"},
		},
	},
	"analytic": {
		file: "objects/analytic.json",
		attrs: map[string]attr{
			"uid":     {kind: kString, req: recommended},
			"name":    {kind: kString, req: recommended},
			"type_id": {kind: kInt, req: required, sibling: "type", enum: map[int]string{0: "Unknown", 1: "Rule", 2: "Behavioral", 3: "Statistical", 4: "Learning (ML/DL)", 5: "Fingerprinting", 6: "Tagging", 7: "Keyword Match", 8: "Regular Expressions", 9: "Exact Data Match", 10: "Partial Data Match", 11: "Indexed Data Match", 99: "Other"}},
			"type":    {kind: kString, req: optional},
		},
	},
	"attack": {
		file:       "objects/attack.json",
		atLeastOne: []string{"tactic", "technique", "sub_technique"},
		attrs: map[string]attr{
			"technique":     {kind: kObject, req: optional, object: "technique"},
			"sub_technique": {kind: kObject, req: optional, object: "sub_technique"},
			"tactic":        {kind: kObject, req: optional, object: "tactic"},
		},
	},
	"technique": {
		file: "objects/technique.json",
		attrs: map[string]attr{
			"uid":  {kind: kString, req: recommended},
			"name": {kind: kString, req: recommended},
		},
	},
	"sub_technique": {
		file: "objects/sub_technique.json",
		attrs: map[string]attr{
			"uid":  {kind: kString, req: recommended},
			"name": {kind: kString, req: optional},
		},
	},
	"tactic": {
		file: "objects/tactic.json",
		attrs: map[string]attr{
			"uid":  {kind: kString, req: recommended},
			"name": {kind: kString, req: optional},
		},
	},
	"evidences": {
		file:       "objects/evidences.json",
		atLeastOne: []string{"actor", "api", "connection_info", "data", "database", "databucket", "device", "dst_endpoint", "email", "file", "process", "query", "src_endpoint", "url", "user", "job"},
		attrs: map[string]attr{
			"data": {kind: kJSON, req: optional},
		},
	},
	"resource_details": {
		file: "objects/resource_details.json",
		attrs: map[string]attr{
			"uid":  {kind: kString, req: recommended},
			"type": {kind: kString, req: optional},
		},
	},
}
