package postgres

// migrations are applied in order, each once. The schema is DuckDB's with
// PostgreSQL's types (no unsigned integers: bigint counters) and the
// indexes a row store needs for the dashboard queries: by time, by either
// address, and the record id, unique, which makes writes idempotent.
// Sessions are one table with an index on day rather than declarative
// partitions, which would have to be created ahead of the data.
var migrations = []string{
	1: `
CREATE TABLE sessions (
	tenant text NOT NULL, day date NOT NULL, uid text NOT NULL, seq integer NOT NULL,
	final boolean NOT NULL, end_reason text NOT NULL, sensor text NOT NULL, source text NOT NULL,
	start_us bigint NOT NULL, end_us bigint NOT NULL,
	orig_ip bytea NOT NULL, orig_port integer NOT NULL, orig_mac text NOT NULL, orig_asset text NOT NULL,
	orig_tags text[] NOT NULL, orig_segment text NOT NULL, orig_device text NOT NULL,
	resp_ip bytea NOT NULL, resp_port integer NOT NULL, resp_mac text NOT NULL, resp_asset text NOT NULL,
	resp_tags text[] NOT NULL, resp_segment text NOT NULL, resp_device text NOT NULL,
	ip_proto smallint NOT NULL, transport text NOT NULL, direction text NOT NULL,
	conn_state text NOT NULL, history text NOT NULL,
	orig_pkts bigint NOT NULL, resp_pkts bigint NOT NULL, orig_bytes bigint NOT NULL, resp_bytes bigint NOT NULL,
	orig_ip_bytes bigint NOT NULL, resp_ip_bytes bigint NOT NULL, missed_bytes bigint NOT NULL,
	app text NOT NULL, vlans integer[] NOT NULL, mirror_kind text NOT NULL, mirror_source bytea NOT NULL,
	mirror_vni bigint NOT NULL, tunnel_parents text[] NOT NULL, community_id text NOT NULL,
	d_orig_bytes bigint NOT NULL, d_resp_bytes bigint NOT NULL, d_orig_pkts bigint NOT NULL, d_resp_pkts bigint NOT NULL,
	UNIQUE (tenant, uid, seq)
);
CREATE INDEX sessions_end ON sessions (tenant, end_us);
CREATE INDEX sessions_orig_ip ON sessions (tenant, orig_ip);
CREATE INDEX sessions_resp_ip ON sessions (tenant, resp_ip);
CREATE INDEX sessions_day ON sessions (day);
CREATE TABLE rollup_device (
	tenant text NOT NULL, minute_us bigint NOT NULL, device text NOT NULL,
	bytes bigint NOT NULL, packets bigint NOT NULL, sessions bigint NOT NULL,
	PRIMARY KEY (tenant, minute_us, device)
);
CREATE TABLE rollup_segment (
	tenant text NOT NULL, minute_us bigint NOT NULL, orig_segment text NOT NULL, resp_segment text NOT NULL,
	bytes bigint NOT NULL, packets bigint NOT NULL, sessions bigint NOT NULL,
	PRIMARY KEY (tenant, minute_us, orig_segment, resp_segment)
);
CREATE TABLE rollup_app (
	tenant text NOT NULL, minute_us bigint NOT NULL, app text NOT NULL,
	bytes bigint NOT NULL, packets bigint NOT NULL, sessions bigint NOT NULL,
	PRIMARY KEY (tenant, minute_us, app)
);
CREATE TABLE device_metrics (
	tenant text NOT NULL, day date NOT NULL, time_us bigint NOT NULL, device text NOT NULL,
	name text NOT NULL, value double precision NOT NULL, list text[] NOT NULL,
	PRIMARY KEY (tenant, name, device, time_us)
);
CREATE TABLE devices (
	tenant text NOT NULL, id text NOT NULL, first_seen_us bigint NOT NULL, last_seen_us bigint NOT NULL,
	macs text[] NOT NULL, ips text[] NOT NULL, category text NOT NULL, risk double precision NOT NULL,
	attributes text NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE TABLE findings (
	tenant text NOT NULL, id text NOT NULL, day date NOT NULL, time_us bigint NOT NULL,
	detector text NOT NULL, rule text NOT NULL, severity text NOT NULL, entities text[] NOT NULL,
	evidence text NOT NULL, state text NOT NULL, dedupe_key text NOT NULL, technique text NOT NULL,
	PRIMARY KEY (tenant, id)
);`,
	// Enrichment, L7 and flow metadata: searchable parts as columns, the
	// rest as JSON in detail. Existing rows read back as sessions without.
	2: `
ALTER TABLE sessions
	ADD COLUMN orig_country text NOT NULL DEFAULT '', ADD COLUMN resp_country text NOT NULL DEFAULT '',
	ADD COLUMN orig_asn bigint NOT NULL DEFAULT 0, ADD COLUMN resp_asn bigint NOT NULL DEFAULT 0,
	ADD COLUMN intel text[] NOT NULL DEFAULT '{}', ADD COLUMN flow_action text NOT NULL DEFAULT '',
	ADD COLUMN server_name text NOT NULL DEFAULT '', ADD COLUMN detail text NOT NULL DEFAULT '';`,
	// Hourly rollups by device and by each end's address, filled from
	// what is stored already.
	3: `
CREATE TABLE rollup_device_hour (
	tenant text NOT NULL, hour_us bigint NOT NULL, device text NOT NULL,
	bytes bigint NOT NULL, packets bigint NOT NULL, sessions bigint NOT NULL,
	PRIMARY KEY (tenant, hour_us, device)
);
CREATE TABLE rollup_ip_hour (
	tenant text NOT NULL, hour_us bigint NOT NULL, side smallint NOT NULL, ip bytea NOT NULL,
	bytes bigint NOT NULL, packets bigint NOT NULL, sessions bigint NOT NULL,
	PRIMARY KEY (tenant, hour_us, side, ip)
);
INSERT INTO rollup_device_hour
	SELECT tenant, minute_us / 3600000000 * 3600000000, device, sum(bytes), sum(packets), sum(sessions)
	FROM rollup_device GROUP BY 1, 2, 3;
INSERT INTO rollup_ip_hour
	SELECT tenant, end_us / 3600000000 * 3600000000, side, ip, sum(b), sum(p), sum(n) FROM (
		SELECT tenant, end_us, 0 AS side, orig_ip AS ip, d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS n FROM sessions
		UNION ALL
		SELECT tenant, end_us, 1, resp_ip, d_orig_bytes + d_resp_bytes, d_orig_pkts + d_resp_pkts, CASE WHEN seq = 0 THEN 1 ELSE 0 END FROM sessions) AS ends
	GROUP BY 1, 2, 3, 4;`,
}
