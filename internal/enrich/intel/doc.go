// Package intel matches session endpoints and names against threat
// intelligence feeds: lists of IP addresses, CIDR ranges and domains, and
// STIX 2.1 indicator bundles.
//
// # Feeds
//
// A feed is one file, loaded by [LoadFeed] from a [FeedConfig]. Its format
// is "plain", "csv" or "stix"; left empty, a .csv extension means CSV, .json
// means STIX, and otherwise a file that starts with '{' is STIX, one whose
// first line that is not a comment holds a comma is CSV, and anything else
// is plain.
//
// An indicator is an IPv4 or IPv6 address, a CIDR of either family, or a
// domain name. IPv4-mapped IPv6 addresses and ranges (::ffff:192.0.2.1,
// ::ffff:192.0.2.0/120) count as IPv4; host bits of a CIDR are ignored; a
// CIDR of full length is an address. A domain has at least two labels of
// letters, digits, '-' and '_', a last label that is not all digits, and
// may start with "*."; case and a trailing dot do not matter.
//
// Plain: one indicator a line; '#' starts a comment, also after an
// indicator; blank lines are ignored.
//
//	# ransomware C2, 2025-06
//	203.0.113.7
//	198.51.100.0/24   # whole hosting range
//	2001:db8:bad::/48
//	evil.example
//
// CSV (RFC 4180, '#' comment lines): the indicator is in the column that
// FeedConfig.Column names by header or by 1-based index; left empty, it is
// the first column of the first data row that holds an indicator. The other
// columns are ignored. The header is optional: a first row whose indicator
// cell (or, when the column is to be found, every cell) is not an indicator
// is taken as the header; a Column given by name needs one.
//
//	first_seen,indicator,confidence
//	2025-06-01,203.0.113.7,90
//	2025-06-02,evil.example,70
//
// STIX: a bundle {"type":"bundle","objects":[...]} of which only objects of
// type "indicator" with pattern_type "stix" (or none, as in STIX 2.0) are
// read. Their patterns may compare ipv4-addr:value and ipv6-addr:value
// with = or ISSUBSET to an address or CIDR, and domain-name:value with = to
// a name; comparisons are joined by OR inside an observation ([a OR b]),
// observations by OR between them ([a] OR [b]), and parentheses group
// either. Indicators that are revoked, whose valid_until has passed when
// the feed loads, of another pattern_type, or whose pattern uses anything
// else (AND, FOLLOWEDBY, qualifiers, other object types or operators) are
// left out and counted by reason ([Feed.Skipped]).
//
//	{"type": "bundle", "id": "bundle--…", "objects": [
//	  {"type": "indicator", "spec_version": "2.1", "id": "indicator--…",
//	   "pattern_type": "stix", "valid_from": "2025-06-01T00:00:00Z",
//	   "pattern": "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [domain-name:value = 'evil.example']"}]}
//
// # Errors
//
// A file that cannot be read, a CSV header without the named column, a
// STIX file that is not valid JSON or not a bundle, and a file in which not
// one record is valid are errors: the caller keeps the feed it had. Other
// bad records are set aside: [Feed.Rejected] counts them and keeps the
// errors of the first ten, each naming the file, the line (STIX: the index
// and id of the object) and the field. A repeated indicator is kept once.
//
// # Matching
//
// A [Set] holds the loaded feeds. [Set.IP] reports every listed address
// equal to the address looked up and every listed CIDR containing it, with
// field "ip". [Set.Domain] reports every listed domain that is the name
// looked up or a parent of it: evil.example matches evil.example and
// a.b.evil.example, not notevil.example; the field is the caller's
// ("dns.query", "tls.sni", "http.host"). A hit names the feed and the
// indicator as the feed wrote it.
//
// Feeds are immutable once loaded, and [NewSet] merges them into one
// index that is never written after, so lookups take no lock; a lookup
// that finds nothing allocates nothing. Every address, range and domain
// key leads to its whole answer, the hits of the ranges or parent domains
// containing it included, so a lookup stops at its first match. Exact
// addresses are map keys of 4 or 16 bytes, CIDRs are in one bart routing
// table, domains in one map by name, and in front of them a Bloom filter
// blocked by cache line and a bitmap of the IPv4 /20s turn most misses
// away in one or two accesses to memory that stays in cache. Every
// indicator's text is a slice of one string per feed. NewSet takes about
// half a second for a million indicators, so Sets are built off the
// lookup path, and a reloaded feed is merged with the others as loaded.
package intel
