package assets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvText are the CSV columns that hold one string of an asset; with
// ips, tags and interfaces they are all the columns a file may have.
var csvText = map[string]func(*Asset) *string{
	"id":      func(a *Asset) *string { return &a.ID },
	"name":    func(a *Asset) *string { return &a.Name },
	"account": func(a *Asset) *string { return &a.Account },
	"region":  func(a *Asset) *string { return &a.Region },
	"vpc":     func(a *Asset) *string { return &a.VPC },
	"subnet":  func(a *Asset) *string { return &a.Subnet },
	"type":    func(a *Asset) *string { return &a.Type },
}

// decodeCSV decodes an inventory of assets, one a record, under a
// header naming the columns; lists are ';'-separated.
func decodeCSV(src string, r io.Reader) (*Snapshot, []error, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return &Snapshot{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("asset inventory %s: header: %w", src, err)
	}
	if err := normalizeHeader(header); err != nil {
		return nil, nil, fmt.Errorf("asset inventory %s:1: header: %w", src, err)
	}
	snap := &Snapshot{}
	var rejected []error
	reject := func(line int, field string, err error) {
		rejected = append(rejected, &EntryError{Source: src, Line: line, Field: field, Err: err})
	}
	firstLine := map[string]int{}
records:
	for {
		record, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			reject(pe.Line, "record", fmt.Errorf("column %d: %w", pe.Column, pe.Err))
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("asset inventory %s: %w", src, err)
		}
		line, _ := cr.FieldPos(0)
		a := Asset{Source: src}
		for i, v := range record {
			if err := setColumn(&a, header[i], strings.TrimSpace(v)); err != nil {
				field := header[i]
				if ie, ok := err.(*itemError); ok {
					field = fmt.Sprintf("%s[%d]", field, ie.index)
				}
				reject(line, field, err)
				continue records
			}
		}
		if a.ID == "" {
			reject(line, "id", errors.New("missing"))
			continue
		}
		if first, dup := firstLine[a.ID]; dup {
			reject(line, "id", fmt.Errorf("duplicate id %q (first at line %d)", a.ID, first))
			continue
		}
		firstLine[a.ID] = line
		snap.Assets = append(snap.Assets, a)
	}
	snap.normalize()
	return snap, rejected, nil
}

// normalizeHeader lower-cases the column names and checks them.
func normalizeHeader(header []string) error {
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // spreadsheets write a byte-order mark
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		header[i] = h
		if _, ok := csvText[h]; !ok && h != "ips" && h != "tags" && h != "interfaces" {
			return fmt.Errorf("unknown column %q (want id, name, account, ips, tags, region, vpc, subnet, type, interfaces)", h)
		}
		if seen[h] {
			return fmt.Errorf("column %q twice", h)
		}
		seen[h] = true
	}
	if !seen["id"] {
		return errors.New(`no "id" column`)
	}
	return nil
}

func setColumn(a *Asset, column, v string) error {
	switch column {
	case "ips":
		for i, s := range splitList(v) {
			ip, err := parseAddr(s)
			if err != nil {
				return &itemError{index: i, err: err}
			}
			a.IPs = append(a.IPs, ip)
		}
	case "tags":
		a.Tags = splitList(v)
	case "interfaces":
		a.Interfaces = splitList(v)
	default:
		*csvText[column](a) = v
	}
	return nil
}

// splitList splits a ';'-separated cell, dropping empty items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ";") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
