// Package assets is the asset inventory: which host, device or cloud
// resource holds an address, and which mirror session, network
// interface and instance mirrored traffic comes from.
//
// # Sources
//
// Each source yields a Snapshot of assets, network interfaces and
// mirror sessions. LoadFile reads one file, in the format its extension
// names; LoadEC2 reads AWS EC2.
//
// YAML (.yaml, .yml) and JSON (.json, read as YAML) hold either a list
// of assets or a mapping with the lists assets, interfaces and
// mirror_sessions:
//
//	assets:
//	  - {id: plc-7, name: line-3 plc, account: plant-a, ips: [10.20.0.7], tags: [ot, plc]}
//	  - id: i-0abc
//	    region: eu-west-1
//	    vpc: vpc-1
//	    subnet: subnet-1
//	    type: m5.large
//	    interfaces: [eni-1]
//	interfaces:
//	  - {id: eni-1, asset: i-0abc, mac: "02:00:00:00:00:01", ips: [10.0.1.5, 2001:db8::5]}
//	mirror_sessions:
//	  - {id: tmms-1, vni: 4242, interface: eni-1, target: tmt-1}
//
// Asset fields are id, name, account, region, vpc, subnet, type, ips,
// tags and interfaces; interface fields id, asset, ips, mac, subnet and
// vpc; mirror session fields id, vni, interface and target. A list may
// be written as one value. CSV (.csv) holds assets only, under a header
// that names the columns, in any order: id is required, the others are
// name, account, ips, tags, region, vpc, subnet, type and interfaces;
// lists are separated by ';' and lines starting with '#' are comments:
//
//	id,name,account,ips,tags
//	plc-7,line-3 plc,plant-a,10.20.0.7,ot;plc
//
// An entry without an id, with an id already used in the file, with an
// unknown field or a value that does not parse is set aside as an
// *EntryError naming the file, line and field, and the others load; a
// file that does not parse as a whole, or whose top level or CSV header
// is wrong, is an error.
//
// LoadEC2 reads, for each region, DescribeInstances (id, Name tag,
// account, region, VPC, subnet, instance type, tags, and every network
// interface with its private, public and IPv6 addresses; terminated
// instances are left out), DescribeNetworkInterfaces (ENIs of no
// instance, such as load balancers, NAT gateways and VPC endpoints,
// become assets named by their description, requester or interface
// type) and DescribeTrafficMirrorSessions. EC2 tags become "Key=Value"
// tags, and for the keys in EC2Config.TagKeys the bare value too.
//
// # Inventory
//
// NewInventory merges snapshots, later ones winning on ids and
// addresses, and answers ByIP, ByID and ByMirror. It is immutable, so
// lookups need no locks and allocate nothing; a reload builds a new one.
// ByMirror follows AWS Traffic Mirroring, which sends VXLAN from the
// mirrored ENI's primary private address with the session's VNI: the
// session is the one on the ENI holding the outer source address with
// that VNI, or else the only session with that VNI; the interface and
// asset are the session's, or else those holding the source address.
package assets
