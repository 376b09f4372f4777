package defender

import "strings"

// AWS's reserved Device Defender topics:
//
//	$aws/things/{thing}/defender/metrics/{json|cbor}            device publishes a report
//	$aws/things/{thing}/defender/metrics/{json|cbor}/accepted   reply
//	$aws/things/{thing}/defender/metrics/{json|cbor}/rejected   reply
//
// The filter below names its first level literally, so brokers match it
// against these $-topics (a wildcard in the first level would not match
// them, MQTT-4.7.2-1).
const reportFilter = "$aws/things/+/defender/metrics/+"

// parseReportTopic returns the thing and format of a report topic.
func parseReportTopic(topic string) (thing string, f Format, ok bool) {
	rest, ok := strings.CutPrefix(topic, "$aws/things/")
	if !ok {
		return "", 0, false
	}
	thing, rest, ok = strings.Cut(rest, "/defender/metrics/")
	if !ok || thing == "" || strings.Contains(thing, "/") {
		return "", 0, false
	}
	switch rest {
	case "json":
		return thing, FormatJSON, true
	case "cbor":
		return thing, FormatCBOR, true
	}
	return "", 0, false
}

// replyTopic is where the answer to a report published on topic goes.
func replyTopic(topic string, r *Reply) string {
	if r.Status == StatusAccepted {
		return topic + "/accepted"
	}
	return topic + "/rejected"
}

// mayUse is the embedded broker's topic ACL: a client publishes reports
// and subscribes to their replies for the things p may report for, and
// touches no other topic — the broker is there for Device Defender only.
func mayUse(p principal, topic string, write bool) bool {
	levels := strings.Split(topic, "/")
	if len(levels) < 6 || levels[0] != "$aws" || levels[1] != "things" || levels[3] != "defender" || levels[4] != "metrics" {
		return false
	}
	thing := levels[2]
	if write {
		return len(levels) == 6 && (levels[5] == "json" || levels[5] == "cbor") && p.mayReport(thing)
	}
	if thing == "+" || thing == "#" {
		if p.things != nil {
			return false
		}
	} else if !p.mayReport(thing) {
		return false
	}
	switch {
	case len(levels) == 6:
		return levels[5] == "#"
	case len(levels) == 7:
		return oneOf(levels[5], "json", "cbor", "+") && oneOf(levels[6], "accepted", "rejected", "+", "#")
	}
	return false
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
