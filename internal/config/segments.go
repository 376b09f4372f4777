package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/segment"
)

// Segmentation configures segmentation recommendations and capacity
// planning (docs/segmentation.md): the links whose bandwidth traffic is
// measured against, the utilisation that warns, and how many sessions a
// port needs to be recommended.
type Segmentation struct {
	// WarnUtilisation is the p95 utilisation (0-1) from which a link
	// is reported with a warning.
	WarnUtilisation float64 `yaml:"warn_utilisation"`
	// MinSessions is the fewest sessions a segment pair's port must
	// have had to be recommended (the API's min_sessions overrides it).
	MinSessions int   `yaml:"min_sessions"`
	Links       Links `yaml:"links"`
}

// Links are the configured links, read strictly entry by entry.
type Links []Link

// Link is a path between two sets of segments, with its bandwidth.
type Link struct {
	Name      string    `yaml:"name"`
	Src       Segments  `yaml:"src"`
	Dst       Segments  `yaml:"dst"`
	Bandwidth Bandwidth `yaml:"bandwidth"`
}

// Segments is one segment name or a list of them.
type Segments []string

// Bandwidth is a bit rate in bits/s that YAML may write with a unit
// ("1Gbps", "500Mbps", "10kbps") or as a number of bits/s.
type Bandwidth int64

func defaultSegmentation() Segmentation {
	d := segment.DefaultConfig()
	return Segmentation{WarnUtilisation: d.WarnUtilisation, MinSessions: d.MinSessions}
}

// Config is the section as the segment package takes it.
func (s Segmentation) Config() segment.Config {
	c := segment.Config{WarnUtilisation: s.WarnUtilisation, MinSessions: s.MinSessions}
	for _, l := range s.Links {
		c.Links = append(c.Links, segment.Link{Name: l.Name, Src: l.Src, Dst: l.Dst, BandwidthBps: float64(l.Bandwidth)})
	}
	return c
}

func (s Segmentation) validate() error {
	return under("segmentation.", s.Config().Validate())
}

var bitUnits = []struct {
	suffix string
	mult   float64
}{
	{"Tbps", 1e12}, {"Gbps", 1e9}, {"Mbps", 1e6}, {"kbps", 1e3}, {"Kbps", 1e3}, {"bps", 1},
}

// ParseBandwidth reads "1Gbps", "2.5Gbps", "500Mbps" or a plain number of
// bits/s; units are decimal.
func ParseBandwidth(s string) (Bandwidth, error) {
	s = strings.TrimSpace(s)
	num, mult := s, 1.0
	for _, u := range bitUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || f*mult > 1e18 {
		return 0, fmt.Errorf("invalid bandwidth %q (want e.g. 1Gbps, 500Mbps, 10kbps or bits/s)", s)
	}
	return Bandwidth(f * mult), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *Bandwidth) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseBandwidth(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalYAML takes a scalar or a list of scalars.
func (s *Segments) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = Segments{n.Value}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return errors.New("expected a segment name or a list of them")
}

// UnmarshalYAML reads the list, each entry strictly: unknown keys are
// errors naming the entry.
func (ls *Links) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			*ls = nil
			return nil
		}
		return errors.New("expected a list of links")
	}
	out := make(Links, len(n.Content))
	for i, el := range n.Content {
		if err := walk("", el, reflect.ValueOf(&out[i]).Elem(), fmt.Sprintf("segmentation.links[%d]", i)); err != nil {
			// walk names the file first; the caller adds it.
			return errors.New("line " + strings.TrimPrefix(err.Error(), ":"))
		}
	}
	*ls = out
	return nil
}
