package clickhouse

import (
	"maps"
	"slices"
	"strings"
)

// The tables, in the types ClickHouse 18.16 (Debian's) has — no IPv6,
// DateTime64, Bool or LowCardinality — and that current ClickHouse reads
// the same: addresses FixedString(16) (IPv6's own layout), times Int64
// microseconds. Sessions and device metrics are partitioned by UTC day, so
// retention drops whole partitions (no TTL in 18.16).
//
// With a cluster the tables below are each shard's "_local" tables and a
// Distributed table of the plain name sits over them on every node; the
// rollups' materialised views fire on each shard's local inserts.

const sessionsColumns = `
	tenant String, day Date, uid String, seq UInt32, final UInt8, end_reason String, sensor String, source String,
	start_us Int64, end_us Int64,
	orig_ip FixedString(16), orig_port UInt16, orig_mac String, orig_asset String, orig_tags Array(String),
	orig_segment String, orig_device String,
	resp_ip FixedString(16), resp_port UInt16, resp_mac String, resp_asset String, resp_tags Array(String),
	resp_segment String, resp_device String,
	ip_proto UInt8, transport String, direction String, conn_state String, history String,
	orig_pkts UInt64, resp_pkts UInt64, orig_bytes UInt64, resp_bytes UInt64,
	orig_ip_bytes UInt64, resp_ip_bytes UInt64, missed_bytes UInt64,
	app String, vlans Array(UInt16), mirror_kind String, mirror_source FixedString(16), mirror_vni UInt32,
	tunnel_parents Array(String), community_id String,
	d_orig_bytes UInt64, d_resp_bytes UInt64, d_orig_pkts UInt64, d_resp_pkts UInt64`

// table is one table: its columns and MergeTree engine clause.
type table struct {
	name, columns, engine string
}

var tables = []table{
	{"sessions", sessionsColumns, "MergeTree() PARTITION BY day ORDER BY (tenant, end_us, uid, seq)"},
	{"rollup_app", "day Date, tenant String, minute_us Int64, app String, bytes UInt64, packets UInt64, sessions UInt64",
		"SummingMergeTree((bytes, packets, sessions)) PARTITION BY day ORDER BY (tenant, minute_us, app)"},
	{"rollup_segment", "day Date, tenant String, minute_us Int64, orig_segment String, resp_segment String, bytes UInt64, packets UInt64, sessions UInt64",
		"SummingMergeTree((bytes, packets, sessions)) PARTITION BY day ORDER BY (tenant, minute_us, orig_segment, resp_segment)"},
	{"rollup_device", "day Date, tenant String, minute_us Int64, device String, bytes UInt64, packets UInt64, sessions UInt64",
		"SummingMergeTree((bytes, packets, sessions)) PARTITION BY day ORDER BY (tenant, minute_us, device)"},
	{"device_metrics", "tenant String, day Date, time_us Int64, device String, name String, value Float64, list Array(String)",
		"MergeTree() PARTITION BY day ORDER BY (tenant, name, device, time_us)"},
	{"devices", "tenant String, id String, first_seen_us Int64, last_seen_us Int64, macs Array(String), ips Array(String), category String, risk Float64, attributes String, version UInt64",
		"ReplacingMergeTree(version) ORDER BY (tenant, id)"},
	{"findings", "tenant String, id String, day Date, time_us Int64, detector String, rule String, severity String, entities Array(String), evidence String, state String, dedupe_key String, technique String, version UInt64",
		"ReplacingMergeTree(version) ORDER BY (tenant, id)"},
}

// rollupViews feed the rollups from each inserted block of sessions,
// summed per block; SummingMergeTree folds the rest on merges and queries
// add up what is not merged yet.
var rollupViews = map[string]string{
	"rollup_app": `SELECT toDate(intDiv(end_us, 1000000)) AS day, tenant, intDiv(end_us, 60000000) * 60000000 AS minute_us, app,
		sum(d_orig_bytes + d_resp_bytes) AS bytes, sum(d_orig_pkts + d_resp_pkts) AS packets, sum(seq = 0) AS sessions
		FROM {sessions} GROUP BY day, tenant, minute_us, app`,
	"rollup_segment": `SELECT toDate(intDiv(end_us, 1000000)) AS day, tenant, intDiv(end_us, 60000000) * 60000000 AS minute_us, orig_segment, resp_segment,
		sum(d_orig_bytes + d_resp_bytes) AS bytes, sum(d_orig_pkts + d_resp_pkts) AS packets, sum(seq = 0) AS sessions
		FROM {sessions} GROUP BY day, tenant, minute_us, orig_segment, resp_segment`,
	"rollup_device": `SELECT toDate(intDiv(end_us, 1000000)) AS day, tenant, intDiv(end_us, 60000000) * 60000000 AS minute_us,
		arrayJoin([orig_device, resp_device]) AS device,
		sum(d_orig_bytes + d_resp_bytes) AS bytes, sum(d_orig_pkts + d_resp_pkts) AS packets, sum(seq = 0) AS sessions
		FROM {sessions} GROUP BY day, tenant, minute_us, device`,
}

// migration is the statements of one schema version, for one node;
// {local} is the suffix of the tables data lives in ("_local" in a
// cluster), {db} the database and {cluster} the cluster. cluster are
// run after stmts, in a cluster only: what the Distributed tables need.
type migration struct {
	stmts, cluster []string
}

var migrations = []migration{
	1: {version1(), distributed()},
	2: {[]string{"ALTER TABLE {db}.sessions{local} " + version2}, []string{"ALTER TABLE {db}.sessions " + version2}},
	3: version3(),
}

// hourlyRollups (migration 3) rank a day by device or address from a few
// hundred thousand rows instead of millions. The address table has a view
// per end: 18.16 fails on a view's subquery, which splitting an arrayJoin
// of (side, address) needs. They are filled from the sessions already
// stored, after their views exist: no writer runs during a migration.
var hourlyRollups = []struct {
	table, columns, engine string
	views                  map[string]string // by name
}{
	{"rollup_device_hour", "day Date, tenant String, hour_us Int64, device String, bytes UInt64, packets UInt64, sessions UInt64",
		"SummingMergeTree((bytes, packets, sessions)) PARTITION BY day ORDER BY (tenant, hour_us, device)",
		map[string]string{"rollup_device_hour_mv": hourly("arrayJoin([orig_device, resp_device]) AS device", "device")}},
	{"rollup_ip_hour", "day Date, tenant String, hour_us Int64, side UInt8, ip FixedString(16), bytes UInt64, packets UInt64, sessions UInt64",
		"SummingMergeTree((bytes, packets, sessions)) PARTITION BY day ORDER BY (tenant, hour_us, side, ip)",
		map[string]string{
			"rollup_ip_hour_orig_mv": hourly("toUInt8(0) AS side, orig_ip AS ip", "side, ip"),
			"rollup_ip_hour_resp_mv": hourly("toUInt8(1) AS side, resp_ip AS ip", "side, ip"),
		}},
}

// hourly is the SELECT of an hourly rollup's view: sums by hour and key.
func hourly(key, groupBy string) string {
	return "SELECT toDate(intDiv(end_us, 1000000)) AS day, tenant, intDiv(end_us, 3600000000) * 3600000000 AS hour_us, " + key +
		", sum(d_orig_bytes + d_resp_bytes) AS bytes, sum(d_orig_pkts + d_resp_pkts) AS packets, sum(seq = 0) AS sessions" +
		" FROM {db}.sessions{local} GROUP BY day, tenant, hour_us, " + groupBy
}

// columnNames is a column list's names: "a T, b U" → "a, b".
func columnNames(cols string) string {
	var names []string
	for _, c := range strings.Split(cols, ",") {
		names = append(names, strings.Fields(c)[0])
	}
	return strings.Join(names, ", ")
}

func version3() migration {
	var m migration
	for _, t := range hourlyRollups {
		m.stmts = append(m.stmts, "CREATE TABLE IF NOT EXISTS {db}."+t.table+"{local} ("+t.columns+") ENGINE = "+t.engine)
		for _, name := range slices.Sorted(maps.Keys(t.views)) {
			m.stmts = append(m.stmts,
				"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}."+name+"{local} TO {db}."+t.table+"{local} AS "+t.views[name],
				"INSERT INTO {db}."+t.table+"{local} ("+columnNames(t.columns)+") "+t.views[name])
		}
		m.cluster = append(m.cluster, "CREATE TABLE IF NOT EXISTS {db}."+t.table+" AS {db}."+t.table+"_local ENGINE = Distributed({cluster}, {db}, "+t.table+"_local, rand())")
	}
	return m
}

// version2 adds the enrichment, L7 and flow metadata: searchable parts
// as columns, the rest as JSON in detail. A Distributed table takes the
// same ALTER (it does not follow its local table's columns); the parts
// written before read the columns' defaults.
const version2 = `ADD COLUMN orig_country String, ADD COLUMN resp_country String,
	ADD COLUMN orig_asn UInt32, ADD COLUMN resp_asn UInt32, ADD COLUMN intel Array(String),
	ADD COLUMN flow_action String, ADD COLUMN server_name String, ADD COLUMN detail String`

func version1() []string {
	var out []string
	for _, t := range tables {
		out = append(out, "CREATE TABLE IF NOT EXISTS {db}."+t.name+"{local} ("+t.columns+") ENGINE = "+t.engine)
	}
	for _, name := range []string{"rollup_app", "rollup_segment", "rollup_device"} {
		out = append(out, "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}."+name+"_mv{local} TO {db}."+name+"{local} AS "+
			strings.ReplaceAll(rollupViews[name], "{sessions}", "{db}.sessions{local}"))
	}
	return out
}

// distributed are the statements that put Distributed tables over the
// local ones of a cluster; rows go to a shard by their flow, device or
// entry id, so that every version of an upserted entry meets on one
// shard, where FINAL folds them.
func distributed() []string {
	var out []string
	for _, t := range tables {
		key := "rand()"
		switch t.name {
		case "sessions":
			key = "cityHash64(uid)"
		case "device_metrics":
			key = "cityHash64(tenant, device)"
		case "devices", "findings":
			key = "cityHash64(tenant, id)"
		}
		out = append(out, "CREATE TABLE IF NOT EXISTS {db}."+t.name+" AS {db}."+t.name+"_local ENGINE = Distributed({cluster}, {db}, "+t.name+"_local, "+key+")")
	}
	return out
}
