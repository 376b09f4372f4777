package detect

import (
	"strconv"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// EndpointEntities appends an endpoint's typed entity ids: its address
// and, when the inventory knows it, its asset.
func EndpointEntities(dst []string, e *schema.Endpoint) []string {
	dst = append(dst, "ip:"+e.IP.String())
	if e.Asset != "" {
		dst = append(dst, "asset:"+e.Asset)
	}
	return dst
}

// PortEntity is a port's entity id.
func PortEntity(port uint16) string { return "port:" + strconv.Itoa(int(port)) }

// Internal says whether an endpoint is one of ours: an inventoried asset,
// a CIDR segment other than the internet, or private, loopback or
// link-local space when no segment map is configured.
func Internal(e *schema.Endpoint) bool {
	if e.Asset != "" {
		return true
	}
	if e.Segment != "" {
		return e.Segment != "internet"
	}
	return e.IP.IsPrivate() || e.IP.IsLoopback() || e.IP.IsLinkLocalUnicast()
}
