package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Patterns of OCSF's dictionary.json (mac_t; hostname_t as isHostname).
var macPattern = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`)

// Timestamps must be milliseconds of a plausible time: 2000 to 2100.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// classes is what each class_uid must be, with its category.
var classes = map[int64]struct {
	name     string
	category int64
}{
	4001: {"network_activity", 4},
	2004: {"detection_finding", 2},
}

// validate checks one encoded event against the table: the class its
// class_uid names, its category and type_uid, and then every attribute
// of every object, recursively. It returns every problem, each with the
// attribute's path.
func validate(line []byte) []string {
	var ev map[string]any
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&ev); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	if d.More() {
		return []string{"more than one JSON value"}
	}
	var errs []string
	bad := func(path, format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	uid, ok := integer(ev["class_uid"])
	c, known := classes[uid]
	if !ok || !known {
		return []string{fmt.Sprintf("class_uid: %v is not a class the mapping writes", ev["class_uid"])}
	}
	if cat, _ := integer(ev["category_uid"]); cat != c.category {
		bad("category_uid", "%v, want %d for class %d", ev["category_uid"], c.category, uid)
	}
	act, _ := integer(ev["activity_id"])
	if typ, _ := integer(ev["type_uid"]); typ != uid*100+act {
		bad("type_uid", "%v, want class_uid*100+activity_id = %d", ev["type_uid"], uid*100+act)
	}
	for _, k := range []string{"time", "start_time", "end_time"} {
		if _, ok := ev[k]; !ok {
			continue
		}
		if t, _ := integer(ev[k]); t < minTime || t > maxTime {
			bad(k, "%v is not Unix milliseconds of 2000–2100", ev[k])
		}
	}
	if s, ok1 := integer(ev["start_time"]); ok1 {
		if e, ok2 := integer(ev["end_time"]); ok2 && e < s {
			bad("end_time", "%d before start_time %d", e, s)
		}
	}
	validateObject(c.name, "", ev, bad)
	// An observable names the attribute it was taken from.
	obs, _ := ev["observables"].([]any)
	for i, o := range obs {
		m, _ := o.(map[string]any)
		name, _ := m["name"].(string)
		if got, ok := lookup(ev, name); !ok {
			bad(fmt.Sprintf("observables[%d].name", i), "%q names no attribute of the event", name)
		} else if got != m["value"] {
			bad(fmt.Sprintf("observables[%d].value", i), "%v, but %s is %v", m["value"], name, got)
		}
	}
	return errs
}

// lookup follows a path such as "resources[1].uid" or "unmapped.dns.query".
func lookup(v any, path string) (any, bool) {
	for part := range strings.SplitSeq(path, ".") {
		name, index, indexed := strings.Cut(part, "[")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[name]; !ok {
			return nil, false
		}
		if indexed {
			var i int
			if _, err := fmt.Sscanf(index, "%d]", &i); err != nil {
				return nil, false
			}
			list, ok := v.([]any)
			if !ok || i < 0 || i >= len(list) {
				return nil, false
			}
			v = list[i]
		}
	}
	return v, true
}

func validateObject(name, path string, obj map[string]any, bad func(path, format string, args ...any)) {
	c, ok := ocsf130[name]
	if !ok {
		bad(path, "object %s is not in the table", name)
		return
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	for k, a := range c.attrs {
		if _, ok := obj[k]; !ok && a.req == required {
			bad(join(k), "required by %s (%s) but missing", name, c.file)
		}
	}
	if len(c.atLeastOne) > 0 && !slices.ContainsFunc(c.atLeastOne, func(k string) bool { _, ok := obj[k]; return ok }) {
		bad(path, "%s needs at least one of %s", name, strings.Join(c.atLeastOne, ", "))
	}
	for k, v := range obj {
		a, ok := c.attrs[k]
		if !ok {
			bad(join(k), "not an attribute the mapping claims for %s (%s)", name, c.file)
			continue
		}
		if v == nil {
			bad(join(k), "null")
			continue
		}
		if !a.array {
			validateValue(a, join(k), v, bad)
		} else if list, ok := v.([]any); !ok {
			bad(join(k), "want an array, got %T", v)
		} else if len(list) == 0 {
			bad(join(k), "empty array (leave it out)")
		} else {
			for i, el := range list {
				validateValue(a, fmt.Sprintf("%s[%d]", join(k), i), el, bad)
			}
		}
		// An enum's caption sibling holds the caption, except for Other.
		if a.enum != nil && a.sibling != "" {
			id, _ := integer(v)
			if s, ok := obj[a.sibling]; ok && id != 99 && s != a.enum[int(id)] {
				bad(join(a.sibling), "%q, want %q, the caption of %s %d", s, a.enum[int(id)], k, id)
			}
		}
	}
}

func validateValue(a attr, path string, v any, bad func(path, format string, args ...any)) {
	str := func() (string, bool) {
		s, ok := v.(string)
		if !ok {
			bad(path, "want a string, got %T %v", v, v)
		} else if s == "" {
			bad(path, "empty string (leave it out)")
			ok = false
		}
		return s, ok
	}
	switch a.kind {
	case kString:
		str()
	case kIP:
		if s, ok := str(); ok {
			if _, err := netip.ParseAddr(s); err != nil {
				bad(path, "%q is not an IP address", s)
			}
		}
	case kMAC:
		if s, ok := str(); ok && !macPattern.MatchString(s) {
			bad(path, "%q is not a MAC address", s)
		}
	case kHostname:
		if s, ok := str(); ok && !isHostname(s) {
			bad(path, "%q is not a hostname_t", s)
		}
	case kInt, kLong, kTimestamp, kPort:
		n, ok := integer(v)
		switch {
		case !ok:
			bad(path, "want an integer, got %T %v", v, v)
		case a.kind == kInt && (n < -1<<31 || n > 1<<31-1):
			bad(path, "%d overflows integer_t (32 bits)", n)
		case a.kind == kPort && (n < 0 || n > 65535):
			bad(path, "%d is not a port", n)
		case a.kind == kTimestamp && (n < minTime || n > maxTime):
			bad(path, "%d is not Unix milliseconds of 2000–2100", n)
		case a.enum != nil:
			if _, ok := a.enum[int(n)]; !ok {
				bad(path, "%d is not one of the enum's values", n)
			}
		}
	case kFloat:
		if _, ok := v.(json.Number); !ok {
			bad(path, "want a number, got %T", v)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			bad(path, "want a boolean, got %T", v)
		}
	case kJSON:
	case kFreeObject:
		if _, ok := v.(map[string]any); !ok {
			bad(path, "want an object, got %T", v)
		}
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			bad(path, "want a %s object, got %T", a.object, v)
			return
		}
		validateObject(a.object, path, m, bad)
	default:
		bad(path, "kind %d not handled", a.kind)
	}
}

// integer reads a JSON number that is an integer.
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}
