package devices

import "github.com/prometheus/client_golang/prometheus"

// Collector exports an inventory's counters to Prometheus; a scrape
// takes the inventory's lock for as long as copying Stats takes.
type Collector struct {
	inv                                         *Inventory
	devices, sessions, created, merged, moved   *prometheus.Desc
	evicted, gateways, macsUntracked, forgotten *prometheus.Desc
}

// NewCollector describes the inventory's metrics.
func NewCollector(inv *Inventory) *Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("osprey_devices_"+name, help, nil, nil)
	}
	return &Collector{inv: inv,
		devices:       d("tracked", "Devices in the inventory now."),
		sessions:      d("sessions_total", "Session records observed."),
		created:       d("created_total", "Devices created."),
		merged:        d("merged_total", "Devices folded into another once a better identity (MAC, asset id) was seen."),
		moved:         d("rebound_total", "Addresses or MACs rebound from one device to another (DHCP reassignment, host replaced)."),
		evicted:       d("evicted_total", "Devices forgotten to stay within devices.MaxDevices."),
		gateways:      d("gateway_macs_total", "MACs found to be routers' (more than devices.MaxIPsPerMAC addresses at once)."),
		macsUntracked: d("macs_untracked_total", "MAC sightings the MAC table had no room for."),
		forgotten:     d("live_flows_forgotten_total", "Live flows forgotten at devices.MaxLiveFlows."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.devices, c.sessions, c.created, c.merged, c.moved, c.evicted, c.gateways, c.macsUntracked, c.forgotten} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st, n := c.inv.Stats()
	ch <- prometheus.MustNewConstMetric(c.devices, prometheus.GaugeValue, float64(n))
	for _, m := range []struct {
		d *prometheus.Desc
		v uint64
	}{
		{c.sessions, st.Sessions}, {c.created, st.Created}, {c.merged, st.Merged}, {c.moved, st.Moved},
		{c.evicted, st.Evicted}, {c.gateways, st.Gateways}, {c.macsUntracked, st.MACsUntracked}, {c.forgotten, st.FlowsForgotten},
	} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
}
