package assets

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2Config chooses what LoadEC2 reads.
type EC2Config struct {
	Regions  []string // default: the region of the aws.Config
	Endpoint string   // overrides the EC2 endpoint, for tests and VPC endpoints
	// TagKeys are tag keys whose bare value becomes a tag as well as
	// "Key=Value", so that Role=datastore also tags "datastore".
	TagKeys []string
}

// pageSize is the most EC2's Describe calls return a page.
const pageSize = 1000

// LoadEC2 reads the instances, network interfaces and traffic mirror
// sessions of each region. Instances become assets with their ENIs;
// ENIs of no instance (load balancers, NAT gateways, endpoints) become
// assets of their own, named by their description, requester or type.
// It needs ec2:DescribeInstances, ec2:DescribeNetworkInterfaces and
// ec2:DescribeTrafficMirrorSessions.
func LoadEC2(ctx context.Context, awsCfg aws.Config, cfg EC2Config) (*Snapshot, error) {
	regions := cfg.Regions
	if len(regions) == 0 {
		if awsCfg.Region == "" {
			return nil, errors.New("ec2: no region: set the regions or the AWS region")
		}
		regions = []string{awsCfg.Region}
	}
	r := &ec2Reader{snap: &Snapshot{}, ifaceIndex: map[string]int{}, tagKeys: map[string]bool{}}
	for _, k := range cfg.TagKeys {
		r.tagKeys[k] = true
	}
	for _, region := range regions {
		client := ec2.NewFromConfig(awsCfg, func(o *ec2.Options) {
			o.Region = region
			if cfg.Endpoint != "" {
				o.BaseEndpoint = aws.String(cfg.Endpoint)
			}
		})
		r.region = region
		if err := r.instances(ctx, client); err != nil {
			return nil, fmt.Errorf("ec2 %s DescribeInstances: %w", region, err)
		}
		if err := r.interfaces(ctx, client); err != nil {
			return nil, fmt.Errorf("ec2 %s DescribeNetworkInterfaces: %w", region, err)
		}
		if err := r.mirrorSessions(ctx, client); err != nil {
			return nil, fmt.Errorf("ec2 %s DescribeTrafficMirrorSessions: %w", region, err)
		}
	}
	r.snap.normalize()
	return r.snap, nil
}

type ec2Reader struct {
	region     string
	tagKeys    map[string]bool
	snap       *Snapshot
	ifaceIndex map[string]int // ENI id → index in snap.Interfaces
}

func (r *ec2Reader) instances(ctx context.Context, client *ec2.Client) error {
	pages := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, res := range page.Reservations {
			for _, inst := range res.Instances {
				if inst.State != nil && inst.State.Name == types.InstanceStateNameTerminated {
					continue // its addresses may already be someone else's
				}
				r.instance(aws.ToString(res.OwnerId), inst)
			}
		}
	}
	return nil
}

func (r *ec2Reader) instance(account string, inst types.Instance) {
	a := Asset{
		ID:      aws.ToString(inst.InstanceId),
		Account: account,
		Region:  r.region,
		VPC:     aws.ToString(inst.VpcId),
		Subnet:  aws.ToString(inst.SubnetId),
		Type:    string(inst.InstanceType),
		Source:  "ec2:" + r.region,
	}
	a.Name, a.Tags = r.tags(inst.Tags)
	a.IPs = appendAddrs(a.IPs, inst.PrivateIpAddress, inst.PublicIpAddress, inst.Ipv6Address)
	for _, ni := range inst.NetworkInterfaces {
		f := Interface{
			ID:     aws.ToString(ni.NetworkInterfaceId),
			Asset:  a.ID,
			MAC:    aws.ToString(ni.MacAddress),
			Subnet: aws.ToString(ni.SubnetId),
			VPC:    aws.ToString(ni.VpcId),
		}
		f.IPs = appendAddrs(nil, ni.PrivateIpAddress)
		if ni.Association != nil {
			f.IPs = appendAddrs(f.IPs, ni.Association.PublicIp)
		}
		for _, p := range ni.PrivateIpAddresses {
			f.IPs = appendAddrs(f.IPs, p.PrivateIpAddress)
			if p.Association != nil {
				f.IPs = appendAddrs(f.IPs, p.Association.PublicIp)
			}
		}
		for _, v6 := range ni.Ipv6Addresses {
			f.IPs = appendAddrs(f.IPs, v6.Ipv6Address)
		}
		a.IPs = append(a.IPs, f.IPs...)
		a.Interfaces = append(a.Interfaces, f.ID)
		r.addInterface(f)
	}
	r.snap.Assets = append(r.snap.Assets, a)
}

func (r *ec2Reader) interfaces(ctx context.Context, client *ec2.Client) error {
	pages := ec2.NewDescribeNetworkInterfacesPaginator(client, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, ni := range page.NetworkInterfaces {
			r.networkInterface(ni)
		}
	}
	return nil
}

func (r *ec2Reader) networkInterface(ni types.NetworkInterface) {
	f := Interface{
		ID:     aws.ToString(ni.NetworkInterfaceId),
		MAC:    aws.ToString(ni.MacAddress),
		Subnet: aws.ToString(ni.SubnetId),
		VPC:    aws.ToString(ni.VpcId),
	}
	if ni.Attachment != nil {
		f.Asset = aws.ToString(ni.Attachment.InstanceId)
	}
	f.IPs = appendAddrs(nil, ni.PrivateIpAddress)
	if ni.Association != nil {
		f.IPs = appendAddrs(f.IPs, ni.Association.PublicIp)
	}
	for _, p := range ni.PrivateIpAddresses {
		f.IPs = appendAddrs(f.IPs, p.PrivateIpAddress)
		if p.Association != nil {
			f.IPs = appendAddrs(f.IPs, p.Association.PublicIp)
		}
	}
	for _, v6 := range ni.Ipv6Addresses {
		f.IPs = appendAddrs(f.IPs, v6.Ipv6Address)
	}
	if f.Asset == "" {
		// No instance: the ENI stands for the service behind it.
		f.Asset = f.ID
		a := Asset{
			ID:         f.ID,
			Name:       firstNonEmpty(aws.ToString(ni.Description), aws.ToString(ni.RequesterId), string(ni.InterfaceType)),
			Account:    aws.ToString(ni.OwnerId),
			Region:     r.region,
			VPC:        f.VPC,
			Subnet:     f.Subnet,
			Type:       string(ni.InterfaceType),
			IPs:        slices.Clone(f.IPs), // normalize sorts each in place
			Interfaces: []string{f.ID},
			Source:     "ec2:" + r.region,
		}
		_, a.Tags = r.tags(ni.TagSet)
		r.snap.Assets = append(r.snap.Assets, a)
	}
	r.addInterface(f)
}

// addInterface adds an ENI, or merges it into the one DescribeInstances
// already gave.
func (r *ec2Reader) addInterface(f Interface) {
	i, seen := r.ifaceIndex[f.ID]
	if !seen {
		r.ifaceIndex[f.ID] = len(r.snap.Interfaces)
		r.snap.Interfaces = append(r.snap.Interfaces, f)
		return
	}
	old := &r.snap.Interfaces[i]
	old.IPs = sortedAddrs(append(old.IPs, f.IPs...))
	old.Asset = firstNonEmpty(old.Asset, f.Asset)
	old.MAC = firstNonEmpty(old.MAC, f.MAC)
	old.Subnet = firstNonEmpty(old.Subnet, f.Subnet)
	old.VPC = firstNonEmpty(old.VPC, f.VPC)
}

func (r *ec2Reader) mirrorSessions(ctx context.Context, client *ec2.Client) error {
	pages := ec2.NewDescribeTrafficMirrorSessionsPaginator(client, &ec2.DescribeTrafficMirrorSessionsInput{MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, s := range page.TrafficMirrorSessions {
			r.snap.Mirrors = append(r.snap.Mirrors, MirrorSession{
				ID:        aws.ToString(s.TrafficMirrorSessionId),
				VNI:       uint32(aws.ToInt32(s.VirtualNetworkId)),
				Interface: aws.ToString(s.NetworkInterfaceId),
				Target:    aws.ToString(s.TrafficMirrorTargetId),
			})
		}
	}
	return nil
}

// tags turns EC2 tags into "Key=Value" strings, plus the bare value for
// the configured keys, and returns the Name tag's value.
func (r *ec2Reader) tags(tags []types.Tag) (name string, out []string) {
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		if k == "Name" {
			name = v
		}
		out = append(out, k+"="+v)
		if r.tagKeys[k] && v != "" {
			out = append(out, v)
		}
	}
	return name, out
}

// appendAddrs appends the addresses that parse; EC2 leaves absent ones
// nil.
func appendAddrs(ips []netip.Addr, addrs ...*string) []netip.Addr {
	for _, s := range addrs {
		if s == nil {
			continue
		}
		if ip, err := parseAddr(*s); err == nil {
			ips = append(ips, ip)
		}
	}
	return ips
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
