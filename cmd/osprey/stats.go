package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/dpi"
	"github.com/osprey-ndr/osprey/internal/sensor"
)

// printReadStats writes osprey read's --stats summary.
func printReadStats(w io.Writer, st sensor.Stats, src *capture.FileSource, elapsed time.Duration, fileErrors, decodeErrors uint64) {
	fs := src.Stats()
	var d decode.Stats
	for _, s := range st.Decode {
		d.Add(s)
	}
	var sessions, interim, flows, frags, orphans uint64
	evicted := map[string]uint64{}
	for _, m := range st.Meter {
		sessions += m.Sessions
		interim += m.Interim
		flows += m.Flows
		frags += m.Fragments
		orphans += m.OrphanFragments
		for k, v := range m.Evicted {
			evicted[k] += v
		}
	}
	secs := elapsed.Seconds()
	fmt.Fprintf(w, "files:          %d (%d errors, %d bytes skipped)\n", fs.Files, fileErrors, fs.SkippedBytes)
	fmt.Fprintf(w, "packets:        %d (%.0f packets/s, %.1f s)\n", st.Frames, float64(st.Frames)/secs, secs)
	fmt.Fprintf(w, "bytes:          %d\n", st.Bytes)
	fmt.Fprintf(w, "sessions:       %d (%d interim) from %d flows\n", sessions, interim, flows)
	fmt.Fprintf(w, "non-IP frames:  %d (ARP %d)\n", d.NonIP, d.ARP)
	fmt.Fprintf(w, "fragments:      %d (%d whose first fragment was not seen)\n", d.Fragments, orphans)
	fmt.Fprintf(w, "truncated:      %d (metered by IP length)\n", d.Truncated)
	var tun []string
	for k, n := range d.Tunnels {
		if n > 0 {
			tun = append(tun, fmt.Sprintf("%s %d", decode.TunnelKind(k), n))
		}
	}
	fmt.Fprintf(w, "tunnels:        %s\n", orNone(tun))
	fmt.Fprintf(w, "decode errors:  %d (%s)\n", decodeErrors, orNone(sortedCounts(d.ErrorsByReason())))
	fmt.Fprintf(w, "evictions:      %s\n", orNone(sortedCounts(evicted)))
	var a dpi.Stats
	for _, s := range st.DPI {
		a.Add(s)
	}
	fmt.Fprintf(w, "applications:   %d flows inspected: %d by content (%d decided early), %d by port, %d unknown, %d over capacity\n",
		a.Inspected, a.ByContent, a.Early, a.ByPort, a.Unknown, a.OverCapacity)
}

// printFlowStats writes the flow-log part of osprey read's --stats.
func printFlowStats(w io.Writer, fr flowRead, elapsed time.Duration) {
	fmt.Fprintf(w, "flow-log files: %d\n", fr.files)
	fmt.Fprintf(w, "flow records:   %d of %d lines (%.0f lines/s): %d NODATA, %d SKIPDATA, %d rejected, %d headers or blank\n",
		fr.Records, fr.Lines, float64(fr.Lines)/elapsed.Seconds(), fr.NoData, fr.SkipData, fr.Rejected, fr.Skipped)
	fmt.Fprintf(w, "rejected:       %s\n", orNone(sortedCounts(fr.rejected)))
}

func sortedCounts(m map[string]uint64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(out)
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
