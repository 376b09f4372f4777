package duckdb

// migrations are applied in order, each once, recorded in
// schema_migrations. Never edit a released migration: add the next one.
//
// DuckDB has no table partitions; sessions carry their UTC day and arrive
// in time order, so each row group's min/max (zone maps) prunes a time
// range as partitions would, and retention deletes whole days. Rollups
// and small tables have primary keys for upserts; sessions do not (an
// index would slow bulk ingest): the writer skips stored records by a
// time-pruned lookup instead.
var migrations = []string{
	1: `
CREATE TABLE sessions (
	tenant VARCHAR NOT NULL, day DATE NOT NULL, uid VARCHAR NOT NULL, seq UINTEGER NOT NULL,
	final BOOLEAN NOT NULL, end_reason VARCHAR NOT NULL, sensor VARCHAR NOT NULL, source VARCHAR NOT NULL,
	start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
	orig_ip BLOB NOT NULL, orig_port USMALLINT NOT NULL, orig_mac VARCHAR NOT NULL, orig_asset VARCHAR NOT NULL,
	orig_tags VARCHAR[] NOT NULL, orig_segment VARCHAR NOT NULL, orig_device VARCHAR NOT NULL,
	resp_ip BLOB NOT NULL, resp_port USMALLINT NOT NULL, resp_mac VARCHAR NOT NULL, resp_asset VARCHAR NOT NULL,
	resp_tags VARCHAR[] NOT NULL, resp_segment VARCHAR NOT NULL, resp_device VARCHAR NOT NULL,
	ip_proto UTINYINT NOT NULL, transport VARCHAR NOT NULL, direction VARCHAR NOT NULL,
	conn_state VARCHAR NOT NULL, history VARCHAR NOT NULL,
	orig_pkts UBIGINT NOT NULL, resp_pkts UBIGINT NOT NULL, orig_bytes UBIGINT NOT NULL, resp_bytes UBIGINT NOT NULL,
	orig_ip_bytes UBIGINT NOT NULL, resp_ip_bytes UBIGINT NOT NULL, missed_bytes UBIGINT NOT NULL,
	app VARCHAR NOT NULL, vlans USMALLINT[] NOT NULL, mirror_kind VARCHAR NOT NULL, mirror_source BLOB NOT NULL,
	mirror_vni UINTEGER NOT NULL, tunnel_parents VARCHAR[] NOT NULL, community_id VARCHAR NOT NULL,
	d_orig_bytes UBIGINT NOT NULL, d_resp_bytes UBIGINT NOT NULL, d_orig_pkts UBIGINT NOT NULL, d_resp_pkts UBIGINT NOT NULL
);
CREATE TABLE rollup_device (
	tenant VARCHAR NOT NULL, minute_us BIGINT NOT NULL, device VARCHAR NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
CREATE TABLE rollup_segment (
	tenant VARCHAR NOT NULL, minute_us BIGINT NOT NULL, orig_segment VARCHAR NOT NULL, resp_segment VARCHAR NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
CREATE TABLE rollup_app (
	tenant VARCHAR NOT NULL, minute_us BIGINT NOT NULL, app VARCHAR NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
CREATE TABLE device_metrics (
	tenant VARCHAR NOT NULL, day DATE NOT NULL, time_us BIGINT NOT NULL, device VARCHAR NOT NULL,
	name VARCHAR NOT NULL, value DOUBLE NOT NULL, list VARCHAR[] NOT NULL
);
CREATE TABLE devices (
	tenant VARCHAR NOT NULL, id VARCHAR NOT NULL, first_seen_us BIGINT NOT NULL, last_seen_us BIGINT NOT NULL,
	macs VARCHAR[] NOT NULL, ips VARCHAR[] NOT NULL, category VARCHAR NOT NULL, risk DOUBLE NOT NULL,
	attributes VARCHAR NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE TABLE findings (
	tenant VARCHAR NOT NULL, id VARCHAR NOT NULL, day DATE NOT NULL, time_us BIGINT NOT NULL,
	detector VARCHAR NOT NULL, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL, entities VARCHAR[] NOT NULL,
	evidence VARCHAR NOT NULL, state VARCHAR NOT NULL, dedupe_key VARCHAR NOT NULL, technique VARCHAR NOT NULL,
	PRIMARY KEY (tenant, id)
);`,
	// Enrichment, L7 and flow metadata: searchable parts as columns, the
	// rest as JSON in detail. DuckDB adds no column with a constraint, so
	// these have defaults (what existing rows read) but allow NULL; the
	// writer never gives one. The list column has no default and comes
	// last: DuckDB 1.5 fails on a LIST default over more than one row
	// group, and to commit a transaction that alters a table again after
	// adding a LIST column to its rows. Its existing rows hold NULL,
	// which the dialect reads as the empty list (an UPDATE would
	// rewrite them out of time order).
	2: `
ALTER TABLE sessions ADD COLUMN orig_country VARCHAR DEFAULT '';
ALTER TABLE sessions ADD COLUMN resp_country VARCHAR DEFAULT '';
ALTER TABLE sessions ADD COLUMN orig_asn UINTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN resp_asn UINTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN flow_action VARCHAR DEFAULT '';
ALTER TABLE sessions ADD COLUMN server_name VARCHAR DEFAULT '';
ALTER TABLE sessions ADD COLUMN detail VARCHAR DEFAULT '';
ALTER TABLE sessions ADD COLUMN intel VARCHAR[];`,
	// Hourly rollups, so that a day's ranking by device or address reads
	// a few hundred thousand rows rather than millions (the per-minute
	// device rollup holds about one row per two sessions); filled from
	// what is stored already.
	3: `
CREATE TABLE rollup_device_hour (
	tenant VARCHAR NOT NULL, hour_us BIGINT NOT NULL, device VARCHAR NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
CREATE TABLE rollup_ip_hour (
	tenant VARCHAR NOT NULL, hour_us BIGINT NOT NULL, side UTINYINT NOT NULL, ip BLOB NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
INSERT INTO rollup_device_hour
	SELECT tenant, minute_us // 3600000000 * 3600000000 AS h, device, sum(bytes), sum(packets), sum(sessions)
	FROM rollup_device GROUP BY tenant, h, device ORDER BY h;
INSERT INTO rollup_ip_hour
	SELECT tenant, end_us // 3600000000 * 3600000000 AS h, side, ip, sum(b), sum(p), sum(n) FROM (
		SELECT tenant, end_us, 0 AS side, orig_ip AS ip, d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS n FROM sessions
		UNION ALL
		SELECT tenant, end_us, 1, resp_ip, d_orig_bytes + d_resp_bytes, d_orig_pkts + d_resp_pkts, CASE WHEN seq = 0 THEN 1 ELSE 0 END FROM sessions)
	GROUP BY tenant, h, side, ip ORDER BY h;`,
	// Addresses as two UBIGINT halves (dialect.AddrIn says why), which
	// rewrites sessions and the address rollup in time order; every
	// column is NOT NULL again, and the intel of rows older than
	// migration 2 is the empty list.
	4: `
CREATE TEMP MACRO osprey_half(b, i) AS CASE WHEN octet_length(b) = 16 THEN ('0x' || substr(hex(b), i, 16))::UBIGINT ELSE 0 END;
CREATE TABLE sessions_v4 (
	tenant VARCHAR NOT NULL, day DATE NOT NULL, uid VARCHAR NOT NULL, seq UINTEGER NOT NULL,
	final BOOLEAN NOT NULL, end_reason VARCHAR NOT NULL, sensor VARCHAR NOT NULL, source VARCHAR NOT NULL,
	start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
	orig_ip_hi UBIGINT NOT NULL, orig_ip_lo UBIGINT NOT NULL, orig_port USMALLINT NOT NULL, orig_mac VARCHAR NOT NULL,
	orig_asset VARCHAR NOT NULL, orig_tags VARCHAR[] NOT NULL, orig_segment VARCHAR NOT NULL, orig_device VARCHAR NOT NULL,
	resp_ip_hi UBIGINT NOT NULL, resp_ip_lo UBIGINT NOT NULL, resp_port USMALLINT NOT NULL, resp_mac VARCHAR NOT NULL,
	resp_asset VARCHAR NOT NULL, resp_tags VARCHAR[] NOT NULL, resp_segment VARCHAR NOT NULL, resp_device VARCHAR NOT NULL,
	ip_proto UTINYINT NOT NULL, transport VARCHAR NOT NULL, direction VARCHAR NOT NULL,
	conn_state VARCHAR NOT NULL, history VARCHAR NOT NULL,
	orig_pkts UBIGINT NOT NULL, resp_pkts UBIGINT NOT NULL, orig_bytes UBIGINT NOT NULL, resp_bytes UBIGINT NOT NULL,
	orig_ip_bytes UBIGINT NOT NULL, resp_ip_bytes UBIGINT NOT NULL, missed_bytes UBIGINT NOT NULL,
	app VARCHAR NOT NULL, vlans USMALLINT[] NOT NULL, mirror_kind VARCHAR NOT NULL,
	mirror_source_hi UBIGINT NOT NULL, mirror_source_lo UBIGINT NOT NULL, mirror_vni UINTEGER NOT NULL,
	tunnel_parents VARCHAR[] NOT NULL, community_id VARCHAR NOT NULL,
	d_orig_bytes UBIGINT NOT NULL, d_resp_bytes UBIGINT NOT NULL, d_orig_pkts UBIGINT NOT NULL, d_resp_pkts UBIGINT NOT NULL,
	orig_country VARCHAR NOT NULL, resp_country VARCHAR NOT NULL, orig_asn UINTEGER NOT NULL, resp_asn UINTEGER NOT NULL,
	intel VARCHAR[] NOT NULL, flow_action VARCHAR NOT NULL, server_name VARCHAR NOT NULL, detail VARCHAR NOT NULL
);
INSERT INTO sessions_v4 BY NAME
	SELECT * EXCLUDE (orig_ip, resp_ip, mirror_source) REPLACE (coalesce(intel, []::VARCHAR[]) AS intel),
		osprey_half(orig_ip, 1) AS orig_ip_hi, osprey_half(orig_ip, 17) AS orig_ip_lo,
		osprey_half(resp_ip, 1) AS resp_ip_hi, osprey_half(resp_ip, 17) AS resp_ip_lo,
		osprey_half(mirror_source, 1) AS mirror_source_hi, osprey_half(mirror_source, 17) AS mirror_source_lo
	FROM sessions ORDER BY end_us;
DROP TABLE sessions;
ALTER TABLE sessions_v4 RENAME TO sessions;
CREATE TABLE rollup_ip_hour_v4 (
	tenant VARCHAR NOT NULL, hour_us BIGINT NOT NULL, side UTINYINT NOT NULL, ip_hi UBIGINT NOT NULL, ip_lo UBIGINT NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
INSERT INTO rollup_ip_hour_v4 BY NAME
	SELECT * EXCLUDE (ip), osprey_half(ip, 1) AS ip_hi, osprey_half(ip, 17) AS ip_lo FROM rollup_ip_hour ORDER BY hour_us;
DROP TABLE rollup_ip_hour;
ALTER TABLE rollup_ip_hour_v4 RENAME TO rollup_ip_hour;
DROP MACRO osprey_half;`,
	// Strings of few distinct values as codes of the strings table (see
	// coded), which rewrites sessions, rollup_app and rollup_segment in
	// time order. Code 0 is the empty string.
	5: `
CREATE TABLE strings (code UINTEGER NOT NULL, value VARCHAR NOT NULL);
INSERT INTO strings SELECT (row_number() OVER (ORDER BY v) - 1)::UINTEGER, v FROM (
	SELECT '' AS v
	UNION SELECT unnest([end_reason, sensor, source, orig_mac, orig_asset, orig_segment, resp_mac, resp_asset, resp_segment,
		transport, direction, conn_state, history, app, orig_country, resp_country, flow_action]) FROM sessions
	UNION SELECT unnest(orig_tags) FROM sessions UNION SELECT unnest(resp_tags) FROM sessions UNION SELECT unnest(intel) FROM sessions
	UNION SELECT app FROM rollup_app UNION SELECT orig_segment FROM rollup_segment UNION SELECT resp_segment FROM rollup_segment);
CREATE TEMP MACRO osprey_code(s) AS (SELECT code FROM strings WHERE value = s);
CREATE TEMP TABLE list_codes AS
	SELECT l, list(s.code ORDER BY i) AS codes
	FROM (SELECT l, unnest(l) AS v, unnest(range(len(l))) AS i
		FROM (SELECT orig_tags AS l FROM sessions UNION SELECT resp_tags FROM sessions UNION SELECT intel FROM sessions))
	JOIN strings AS s ON s.value = v GROUP BY l;
CREATE TABLE sessions_v5 (
	tenant VARCHAR NOT NULL, day DATE NOT NULL, uid VARCHAR NOT NULL, seq UINTEGER NOT NULL,
	final BOOLEAN NOT NULL, end_reason UINTEGER NOT NULL, sensor UINTEGER NOT NULL, source UINTEGER NOT NULL,
	start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
	orig_ip_hi UBIGINT NOT NULL, orig_ip_lo UBIGINT NOT NULL, orig_port USMALLINT NOT NULL, orig_mac UINTEGER NOT NULL,
	orig_asset UINTEGER NOT NULL, orig_tags UINTEGER[] NOT NULL, orig_segment UINTEGER NOT NULL, orig_device VARCHAR NOT NULL,
	resp_ip_hi UBIGINT NOT NULL, resp_ip_lo UBIGINT NOT NULL, resp_port USMALLINT NOT NULL, resp_mac UINTEGER NOT NULL,
	resp_asset UINTEGER NOT NULL, resp_tags UINTEGER[] NOT NULL, resp_segment UINTEGER NOT NULL, resp_device VARCHAR NOT NULL,
	ip_proto UTINYINT NOT NULL, transport UINTEGER NOT NULL, direction UINTEGER NOT NULL,
	conn_state UINTEGER NOT NULL, history UINTEGER NOT NULL,
	orig_pkts UBIGINT NOT NULL, resp_pkts UBIGINT NOT NULL, orig_bytes UBIGINT NOT NULL, resp_bytes UBIGINT NOT NULL,
	orig_ip_bytes UBIGINT NOT NULL, resp_ip_bytes UBIGINT NOT NULL, missed_bytes UBIGINT NOT NULL,
	app UINTEGER NOT NULL, vlans USMALLINT[] NOT NULL, mirror_kind VARCHAR NOT NULL,
	mirror_source_hi UBIGINT NOT NULL, mirror_source_lo UBIGINT NOT NULL, mirror_vni UINTEGER NOT NULL,
	tunnel_parents VARCHAR[] NOT NULL, community_id VARCHAR NOT NULL,
	d_orig_bytes UBIGINT NOT NULL, d_resp_bytes UBIGINT NOT NULL, d_orig_pkts UBIGINT NOT NULL, d_resp_pkts UBIGINT NOT NULL,
	orig_country UINTEGER NOT NULL, resp_country UINTEGER NOT NULL, orig_asn UINTEGER NOT NULL, resp_asn UINTEGER NOT NULL,
	intel UINTEGER[] NOT NULL, flow_action UINTEGER NOT NULL, server_name VARCHAR NOT NULL, detail VARCHAR NOT NULL
);
INSERT INTO sessions_v5 BY NAME
	SELECT s.* REPLACE (
		osprey_code(end_reason) AS end_reason, osprey_code(sensor) AS sensor, osprey_code(source) AS source,
		osprey_code(orig_mac) AS orig_mac, osprey_code(orig_asset) AS orig_asset, osprey_code(orig_segment) AS orig_segment,
		osprey_code(resp_mac) AS resp_mac, osprey_code(resp_asset) AS resp_asset, osprey_code(resp_segment) AS resp_segment,
		osprey_code(transport) AS transport, osprey_code(direction) AS direction, osprey_code(conn_state) AS conn_state,
		osprey_code(history) AS history, osprey_code(app) AS app, osprey_code(orig_country) AS orig_country,
		osprey_code(resp_country) AS resp_country, osprey_code(flow_action) AS flow_action,
		coalesce(ot.codes, []) AS orig_tags, coalesce(rt.codes, []) AS resp_tags, coalesce(it.codes, []) AS intel)
	FROM sessions AS s
	LEFT JOIN list_codes AS ot ON ot.l = s.orig_tags
	LEFT JOIN list_codes AS rt ON rt.l = s.resp_tags
	LEFT JOIN list_codes AS it ON it.l = s.intel
	ORDER BY end_us;
DROP TABLE sessions;
ALTER TABLE sessions_v5 RENAME TO sessions;
CREATE TABLE rollup_app_v5 (
	tenant VARCHAR NOT NULL, minute_us BIGINT NOT NULL, app UINTEGER NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
INSERT INTO rollup_app_v5 SELECT tenant, minute_us, osprey_code(app), bytes, packets, sessions FROM rollup_app ORDER BY minute_us;
DROP TABLE rollup_app;
ALTER TABLE rollup_app_v5 RENAME TO rollup_app;
CREATE TABLE rollup_segment_v5 (
	tenant VARCHAR NOT NULL, minute_us BIGINT NOT NULL, orig_segment UINTEGER NOT NULL, resp_segment UINTEGER NOT NULL,
	bytes UBIGINT NOT NULL, packets UBIGINT NOT NULL, sessions UBIGINT NOT NULL
);
INSERT INTO rollup_segment_v5 SELECT tenant, minute_us, osprey_code(orig_segment), osprey_code(resp_segment), bytes, packets, sessions
	FROM rollup_segment ORDER BY minute_us;
DROP TABLE rollup_segment;
ALTER TABLE rollup_segment_v5 RENAME TO rollup_segment;
DROP TABLE list_codes;
DROP MACRO osprey_code;`,
	// Rollups written once a minute is over, from the stored sessions
	// (see rollForward), instead of rewritten by every batch: rolled_us
	// is where they end. What is stored already is rolled up to the end
	// of its last hour, hourly tables included.
	rollupState: `
CREATE TABLE rollup_state (rolled_us BIGINT NOT NULL);
INSERT INTO rollup_state SELECT coalesce(max(end_us) // 3600000000 * 3600000000 + 3600000000, 0) FROM sessions;`,
	// The hours whose rollups hold late records' rows, to be compacted
	// (see compactLate).
	lateHours: `
CREATE TABLE rollup_late (hour_us BIGINT NOT NULL);`,
}
