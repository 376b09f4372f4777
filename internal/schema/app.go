package schema

import "time"

// L7 is what the application decoders (internal/dpi) learnt from a
// session's payload. Only the parts for the protocol the session spoke are
// set; the JSON form is documented in docs/schema.md ("l7").
type L7 struct {
	// By says how Session.App was chosen: "content" when a decoder
	// recognised the payload, "port" when only the well-known port did.
	By string `json:"by"`
	// Confidence of the label, 0 to 1: a fully parsed handshake is near
	// 1, a port guess 0.3 or less.
	Confidence float64 `json:"confidence"`

	DNS        *DNS        `json:"dns,omitempty"` // also mDNS, LLMNR, NetBIOS-NS
	TLS        *TLS        `json:"tls,omitempty"`
	HTTP       *HTTP       `json:"http,omitempty"`
	DHCP       *DHCP       `json:"dhcp,omitempty"`
	SSH        *SSH        `json:"ssh,omitempty"`
	MQTT       *MQTT       `json:"mqtt,omitempty"`
	NTP        *NTP        `json:"ntp,omitempty"`
	Cleartext  *Cleartext  `json:"cleartext,omitempty"` // FTP, Telnet, … credentials in the clear
	Industrial *Industrial `json:"industrial,omitempty"`
	// Names are names a device announced for itself (mDNS answers, SSDP
	// SERVER/LOCATION, LLMNR and NetBIOS names, DHCP host names).
	Names []string `json:"names,omitempty"`
}

// DNS is the first query of a session and its answer, as Zeek's dns.log.
type DNS struct {
	ID      uint16   `json:"id"`
	Query   string   `json:"query"`
	QType   string   `json:"qtype"` // "A", "AAAA", "PTR", … or "TYPE65" when unnamed
	RCode   string   `json:"rcode,omitempty"`
	Answers []string `json:"answers,omitempty"` // addresses and names, in order
	// Queries counts the queries seen in the session (one for most UDP).
	Queries int `json:"queries,omitempty"`
}

// TLS is a handshake: ClientHello, ServerHello and, before TLS 1.3, the
// server's certificate and, in mutual TLS, the client's.
type TLS struct {
	Version string   `json:"version,omitempty"` // negotiated: "TLSv12", "TLSv13", …
	SNI     string   `json:"sni,omitempty"`
	ALPN    []string `json:"alpn,omitempty"` // offered by the client
	Cipher  string   `json:"cipher,omitempty"`
	// JA4 is the client fingerprint in FoxIO's JA4 format (TLS over TCP).
	JA4  string `json:"ja4,omitempty"`
	Cert *Cert  `json:"cert,omitempty"`
	// ClientCert is the leaf the client sent when the server asked for
	// one (mutual TLS, as IoT devices authenticate to MQTT brokers).
	// TLS 1.3 encrypts it, so it is only seen up to TLS 1.2.
	ClientCert *Cert `json:"client_cert,omitempty"`
}

// Cert is a leaf certificate, the server's or the client's.
type Cert struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	SHA256     string    `json:"sha256"` // of the DER, hex
	SANs       []string  `json:"sans,omitempty"`
	KeyAlg     string    `json:"key_alg,omitempty"` // RSA, ECDSA, Ed25519
	KeyBits    int       `json:"key_bits,omitempty"`
	SigAlg     string    `json:"sig_alg,omitempty"`
	SelfSigned bool      `json:"self_signed,omitempty"`
}

// HTTP is the first request of a session and its response.
type HTTP struct {
	Method    string `json:"method"`
	Host      string `json:"host,omitempty"`
	URI       string `json:"uri"`
	UserAgent string `json:"user_agent,omitempty"`
	Status    int    `json:"status,omitempty"`
	Server    string `json:"server,omitempty"`
	Requests  int    `json:"requests,omitempty"` // requests seen in the session
}

// DHCP is a DHCPv4 exchange.
type DHCP struct {
	MsgTypes    []string `json:"msg_types"` // DISCOVER, OFFER, REQUEST, ACK, …
	ClientMAC   string   `json:"client_mac,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	VendorClass string   `json:"vendor_class,omitempty"` // option 60
	// ParamList is option 55 as decimal codes joined by commas, the
	// fingerprint Fingerbank and others key OS guesses on.
	ParamList string `json:"param_list,omitempty"`
	Requested string `json:"requested_ip,omitempty"`
	Assigned  string `json:"assigned_ip,omitempty"`
	Domain    string `json:"domain,omitempty"`
	LeaseSecs uint32 `json:"lease_secs,omitempty"`
}

// SSH holds the identification strings of both ends.
type SSH struct {
	Client string `json:"client,omitempty"`
	Server string `json:"server,omitempty"`
}

// MQTT is a client's CONNECT.
type MQTT struct {
	ClientID      string `json:"client_id"`
	ProtocolLevel uint8  `json:"protocol_level"` // 3 = 3.1, 4 = 3.1.1, 5 = 5.0
	Username      string `json:"username,omitempty"`
	ConnAck       *uint8 `json:"connack,omitempty"` // return/reason code when seen
}

// NTP is the first NTP message of a session.
type NTP struct {
	Version uint8 `json:"version"`
	Mode    uint8 `json:"mode"` // 3 client, 4 server, …
	Stratum uint8 `json:"stratum"`
}

// Cleartext flags a protocol that carries credentials unencrypted. The
// password itself is never kept, only that one was sent.
type Cleartext struct {
	Protocol string `json:"protocol"` // ftp, telnet, http-basic, …
	User     string `json:"user,omitempty"`
	Password bool   `json:"password"`
}

// Industrial summarises an OT protocol session (Modbus/TCP, DNP3,
// BACnet/IP, S7comm): what was asked and who the device says it is.
type Industrial struct {
	Protocol  string   `json:"protocol"`
	Functions []string `json:"functions,omitempty"` // in order of first use
	// Units are Modbus unit ids, DNP3 addresses or BACnet device instances.
	Units      []uint32 `json:"units,omitempty"`
	Exceptions int      `json:"exceptions,omitempty"` // error/exception responses
	// Identification answered by the device (Modbus Read Device
	// Identification, BACnet I-Am and properties, S7 SZL reads).
	Vendor  string `json:"vendor,omitempty"`
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
	Serial  string `json:"serial,omitempty"`
	Name    string `json:"name,omitempty"`
}
