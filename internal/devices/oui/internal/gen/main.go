// Command gen converts the IEEE registries shipped by Debian's ieee-data
// package into the compact file embedded by package oui. Run it through
// go generate in internal/devices/oui after `apt-get install ieee-data`.
//
// The output has a "#" comment line naming the source, then one line per
// organisation: its name, a tab, and its assigned prefixes in hex
// separated by spaces (6 digits for MA-L, 7 for MA-M, 9 for MA-S and
// IAB). Grouping by organisation lets gzip see each name once and lets
// the loader keep one string per organisation. The gzip header carries
// no name or time, so the same input gives the same bytes.
package main

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// registries are the CSV files read, with the prefix length of each.
var registries = []struct {
	file, registry string
	digits         int
}{
	{"oui.csv", "MA-L", 6},
	{"mam.csv", "MA-M", 7},
	{"oui36.csv", "MA-S", 9},
	{"iab.csv", "IAB", 9}, // the older 36-bit blocks, still in use
}

func main() {
	src := flag.String("src", "/usr/share/ieee-data", "directory of the ieee-data CSV files")
	out := flag.String("out", "oui.tsv.gz", "file to write")
	version := flag.String("version", "", "ieee-data package version (default: asked of dpkg-query)")
	flag.Parse()
	if *version == "" {
		v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "ieee-data").Output()
		if err != nil {
			log.Fatalf("ieee-data version: %v (install ieee-data or pass -version)", err)
		}
		*version = string(v)
	}
	if err := run(*src, *out, *version); err != nil {
		log.Fatal(err)
	}
}

func run(src, out, version string) error {
	orgs := map[string]map[string]bool{} // prefix → organisations
	for _, r := range registries {
		if err := read(filepath.Join(src, r.file), r.registry, r.digits, orgs); err != nil {
			return err
		}
	}
	byOrg := map[string][]string{}
	for prefix, names := range orgs {
		// A few old MA-L prefixes were given twice; keep every holder.
		name := strings.Join(slices.Sorted(maps.Keys(names)), " / ")
		byOrg[name] = append(byOrg[name], prefix)
	}
	updated := "unknown date"
	if b, err := os.ReadFile(filepath.Join(src, ".lastupdate")); err == nil {
		if secs, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			updated = time.Unix(secs, 0).UTC().Format(time.DateOnly)
		}
	}

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	fmt.Fprintf(zw, "# IEEE MA-L, MA-M, MA-S and IAB registries of %s: Debian ieee-data %s, %d prefixes\n", updated, version, len(orgs))
	for _, name := range slices.Sorted(maps.Keys(byOrg)) {
		slices.Sort(byOrg[name])
		fmt.Fprintf(zw, "%s\t%s\n", name, strings.Join(byOrg[name], " "))
	}
	return errors.Join(zw.Close(), f.Close())
}

// read adds the rows of one registry CSV (Registry, Assignment,
// Organization Name, Organization Address) to orgs.
func read(path, registry string, digits int, orgs map[string]map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 4
	if _, err := r.Read(); err != nil { // header
		return fmt.Errorf("%s: %w", path, err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		prefix := strings.ToUpper(rec[1])
		if rec[0] != registry || len(prefix) != digits || strings.Trim(prefix, "0123456789ABCDEF") != "" {
			return fmt.Errorf("%s: unexpected row %q", path, rec)
		}
		// Names carry stray spaces and, rarely, tabs or line breaks.
		name := strings.Join(strings.Fields(rec[2]), " ")
		if name == "" {
			continue
		}
		if orgs[prefix] == nil {
			orgs[prefix] = map[string]bool{}
		}
		orgs[prefix][name] = true
	}
}
