package api

import "net/http"

// The list and query parameters of the routes.
var (
	pDimension = Param{Name: "dimension", In: "query", Type: "string", Doc: "a filter field (src.ip, dst.port, app, src.tag, …) or device (either end)"}
	pSeriesDim = Param{Name: "dimension", In: "query", Type: "string", Doc: "a filter field or device (default app)"}
	pGroup     = Param{Name: "group", In: "query", Type: "string", Doc: "what the ends are grouped by (default segment)", Enum: []string{"segment", "tag"}}
	pCategory  = Param{Name: "category", In: "query", Type: "string", Doc: "only devices of this category (camera, plc, …)"}
	pDetector  = Param{Name: "detector", In: "query", Type: "string", Doc: "only this detector's findings"}
	pRule      = Param{Name: "rule", In: "query", Type: "string", Doc: "only this rule's findings"}
	pState     = Param{Name: "state", In: "query", Type: "string", Doc: "only findings in this state",
		Enum: []string{"active", "acknowledged", "cleared", "false_positive", "benign_positive"}}
	pSeverity = Param{Name: "severity", In: "query", Type: "string", Doc: "only findings at least this severe",
		Enum: []string{"info", "low", "medium", "high", "critical"}}
	pEntity     = Param{Name: "entity", In: "query", Type: "string", Doc: "only findings naming this entity (ip:10.0.0.5, asset:i-0abc, port:22)"}
	pMetricKey  = Param{Name: "metric_device", In: "query", Type: "string", Doc: "the device key of its metrics (default: its asset id, else its id without the ip:/mac: prefix)"}
	pMetric     = Param{Name: "metric", In: "query", Type: "string", Doc: "comma-separated device metric names (default: the Device Defender counts)"}
	pPeers      = Param{Name: "peers", In: "query", Type: "integer", Doc: "peers listed (default 10, at most 100)"}
	pExamples   = Param{Name: "examples", In: "query", Type: "integer", Doc: "example findings per rule (default 5, at most 50)"}
	pTopLimit   = Param{Name: "top", In: "query", Type: "integer", Doc: "rows of each ranking (default 10, at most 100)"}
	pSeriesLim  = Param{Name: "limit", In: "query", Type: "integer", Doc: "series kept, the largest by total (default 10, at most 100)"}
	pMatrixLim  = Param{Name: "limit", In: "query", Type: "integer", Doc: "cells, largest first (default 100, at most 10000)"}
	pAllTenants = Param{Name: "id", In: "path", Type: "string", Doc: "token id", Required: true}
)

func with(ps ...[]Param) []Param {
	var out []Param
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// table is every route. A route added here is served, documented in the
// OpenAPI document, and walked by the tenancy test.
func (s *Server) table() []*Route {
	lim := func(doc string) Param { p := pLimit; p.Doc = doc; return p }
	return []*Route{
		{Method: "GET", Path: "/api/v1/openapi.json", Access: Public, Tag: "meta", Summary: "This API's OpenAPI 3 document",
			Response: "OpenAPI", handle: s.openAPI},
		{Method: "GET", Path: "/api/v1/whoami", Access: anyRole, Tag: "meta", Summary: "The calling token: id, name, tenant, role",
			Response: "Token", handle: s.whoami},

		{Method: "GET", Path: "/api/v1/sessions", Access: Read, Tag: "sessions", Summary: "Search session records, newest end first",
			Params: with(rangeParams, []Param{pFilter, lim("records per page (default 100, at most 1000)"), pCursor}), Response: "SessionPage", handle: s.searchSessions},
		{Method: "GET", Path: "/api/v1/sessions/top", Access: Read, Tag: "sessions", Summary: "Rank a dimension's values by bytes, packets or sessions",
			Params: with(rangeParams, []Param{withRequired(pDimension), pBy, pFilter, lim("rows (default 10, at most 1000)")}), Response: "TopList", handle: s.top},
		{Method: "GET", Path: "/api/v1/sessions/series", Access: Read, Tag: "sessions", Summary: "A measure per time step and dimension value",
			Params: with(rangeParams, []Param{pSeriesDim, pBy, pFilter, pStep, pSeriesLim}), Response: "Series", handle: s.series},
		{Method: "GET", Path: "/api/v1/sessions/matrix", Access: Read, Tag: "sessions", Summary: "Traffic between the ends' segments or tags",
			Params: with(rangeParams, []Param{pGroup, pBy, pFilter, pMatrixLim}), Response: "CellList", handle: s.matrix},

		{Method: "GET", Path: "/api/v1/overview", Access: Read, Tag: "overview", Summary: "Everything the console's overview draws, in one call",
			Params: with(rangeParams, []Param{pStep, pTopLimit}), Response: "Overview", handle: s.overview},

		{Method: "GET", Path: "/api/v1/devices", Access: Read, Tag: "devices", Summary: "The device inventory, most recently seen first",
			Params: []Param{pCategory, lim("devices per page (default 100, at most 1000)"), pCursor}, Response: "DeviceList", handle: s.devices},
		{Method: "GET", Path: "/api/v1/devices/{id}", Access: Read, Tag: "devices", Summary: "One device",
			Params: []Param{pID}, Response: "Device", handle: s.device},
		{Method: "GET", Path: "/api/v1/devices/{id}/timeline", Access: Read, Tag: "devices",
			Summary: "A device over time: its metrics, its peers, the ports it answered on and reported listening",
			Params:  with([]Param{pID}, rangeParams, []Param{pStep, pMetric, pMetricKey, pPeers}), Response: "Timeline", handle: s.timeline},

		{Method: "GET", Path: "/api/v1/findings", Access: Read, Tag: "findings", Summary: "Findings in their latest state, most recently first seen first",
			Params:   with(rangeParams, []Param{pDetector, pRule, pState, pSeverity, pEntity, lim("findings per page (default 100, at most 1000)"), pCursor}),
			Response: "FindingPage", handle: s.findings},
		{Method: "GET", Path: "/api/v1/findings/{id}", Access: Read, Tag: "findings", Summary: "One finding",
			Params: []Param{pID}, Response: "Finding", handle: s.finding},
		{Method: "POST", Path: "/api/v1/findings/{id}/ack", Access: Triage, Tag: "findings", Summary: "Acknowledge an open finding",
			Params: []Param{pID}, Response: "Finding", handle: s.ack},
		{Method: "POST", Path: "/api/v1/findings/{id}/verdict", Access: Triage, Tag: "findings",
			Summary: "Give a verdict; a false or benign positive closes the finding and its like (history included) and suppresses their repeats",
			Params:  []Param{pID}, BodyType: "application/json", BodySchema: "VerdictRequest", Response: "VerdictResult", handle: s.verdict},
		{Method: "GET", Path: "/api/v1/suppressions", Access: Read, Tag: "findings", Summary: "The tenant's suppressions, oldest first",
			Response: "SuppressionList", handle: s.suppressions},
		{Method: "DELETE", Path: "/api/v1/suppressions/{id}", Access: Triage, Tag: "findings", Summary: "Remove a suppression",
			Params: []Param{pID}, Status: http.StatusNoContent, handle: s.removeSuppression},

		{Method: "GET", Path: "/api/v1/policies", Access: Read, Tag: "policies", Summary: "The policy files in force (detect.policies) and their rules",
			Response: "PolicyList", handle: s.policies},
		{Method: "POST", Path: "/api/v1/policies/validate", Access: Triage, Tag: "policies", Summary: "Check a policy file (the body): errors name the line, rule and field",
			BodyType: "application/yaml", BodySchema: "PolicyYAML", Response: "PolicyCheck", handle: s.validatePolicy},
		{Method: "POST", Path: "/api/v1/policies/whatif", Access: Triage, Tag: "policies",
			Summary: "What a policy file (the body; the policies in force when empty) would have reported over the stored sessions",
			Params:  with(rangeParams, []Param{pExamples}), BodyType: "application/yaml", BodySchema: "PolicyYAML", Response: "WhatIf", handle: s.whatIf},

		{Method: "GET", Path: "/api/v1/segmentation/recommendations", Access: Read, Tag: "segmentation", Summary: "Answered cross-segment traffic by pair and port, and a policy allowing exactly it",
			Params: with(rangeParams, []Param{pMinSessions}), Response: "Recommendations", handle: s.segmentRecommendations},
		{Method: "GET", Path: "/api/v1/segmentation/capacity", Access: Read, Tag: "segmentation", Summary: "Peak and p95 bits/s of each configured link and segment pair, against the link's bandwidth",
			Params: rangeParams, Response: "Capacity", handle: s.segmentCapacity},

		{Method: "GET", Path: "/api/v1/sources", Access: Read, Tag: "sources", Summary: "The daemon's listeners and collectors writing into the tenant, with their health and counters",
			Response: "SourceList", handle: s.sources},
		{Method: "POST", Path: "/api/v1/ingest/metrics", Access: Feed, Tag: "ingest", Summary: "Write device metrics (a JSON array or JSON lines of DeviceMetric) into the tenant",
			BodyType: "application/json", BodySchema: "MetricBatch", Response: "Accepted", Status: http.StatusAccepted, handle: s.ingestMetrics},

		{Method: "GET", Path: "/api/v1/tokens", Access: Manage, Tag: "tokens", Summary: "The tenant's API tokens (never their secrets)",
			Response: "TokenList", handle: s.listTokens},
		{Method: "POST", Path: "/api/v1/tokens", Access: Manage, Tag: "tokens", Summary: "Create a token in the tenant; its secret is in this answer only",
			BodyType: "application/json", BodySchema: "TokenRequest", Response: "NewToken", Status: http.StatusCreated, handle: s.createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Access: Manage, Tag: "tokens", Summary: "Revoke a token of the tenant",
			Params: []Param{pAllTenants}, Status: http.StatusNoContent, handle: s.revokeToken},

		{Method: "GET", Path: "/metrics", Access: Manage, Tag: "meta", Summary: "The daemon's Prometheus metrics (process-wide, text exposition format)",
			Response: "Prometheus", raw: s.metricsHandler()},
	}
}

func withRequired(p Param) Param {
	p.Required = true
	return p
}
