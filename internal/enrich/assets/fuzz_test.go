package assets

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// checkDecoded holds every decoder to its promises: kept entries are
// complete and normalized, rejections are EntryErrors naming the
// source and a line, and the inventory finds every address kept.
func checkDecoded(t *testing.T, src string, snap *Snapshot, rejected []error, err error) {
	if err != nil {
		if snap != nil || rejected != nil {
			t.Fatalf("error %v came with a snapshot or rejections", err)
		}
		return
	}
	for _, r := range rejected {
		var ee *EntryError
		if !errors.As(r, &ee) || ee.Source != src || ee.Line < 1 || ee.Field == "" {
			t.Fatalf("rejection %#v does not name source, line and field", r)
		}
	}
	for _, a := range snap.Assets {
		if a.ID == "" || a.Source != src {
			t.Fatalf("asset %+v: no id or wrong source", a)
		}
		if !slices.IsSorted(a.Tags) || len(slices.Compact(slices.Clone(a.Tags))) != len(a.Tags) || slices.Contains(a.Tags, "") {
			t.Fatalf("asset %s: tags %q not sorted, unique and non-empty", a.ID, a.Tags)
		}
		for i, ip := range a.IPs {
			if !ip.IsValid() || ip.Is4In6() || ip.Zone() != "" || (i > 0 && a.IPs[i-1].Compare(ip) >= 0) {
				t.Fatalf("asset %s: addresses %v not valid, unmapped, sorted and unique", a.ID, a.IPs)
			}
		}
	}
	inv := NewInventory(snap)
	for _, a := range snap.Assets {
		for _, ip := range a.IPs {
			if inv.ByIP(ip) == nil {
				t.Fatalf("ByIP(%s) of asset %s = nil", ip, a.ID)
			}
		}
	}
}

func FuzzDecodeYAML(f *testing.F) {
	f.Add([]byte("- {id: plc-7, ips: [10.20.0.7], tags: [ot, plc]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, rejected, err := decodeYAML("fuzz.yaml", data)
		checkDecoded(t, "fuzz.yaml", snap, rejected, err)
	})
}

func FuzzDecodeCSV(f *testing.F) {
	f.Add([]byte("id,name,account,ips,tags\nplc-7,line-3 plc,plant-a,10.20.0.7,ot;plc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, rejected, err := decodeCSV("fuzz.csv", bytes.NewReader(data))
		checkDecoded(t, "fuzz.csv", snap, rejected, err)
	})
}
