package api

import (
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/segment"
)

// segmentationSince is how far back segmentation looks without since: a
// week holds the weekly jobs a day would miss.
const segmentationSince = 7 * 24 * time.Hour

var pMinSessions = Param{Name: "min_sessions", In: "query", Type: "integer",
	Doc: "fewest sessions a segment pair's protocol and port need to be recommended (default segmentation.min_sessions, 3)"}

// segmentation is the configured section, defaults filling what is unset.
func (s *Server) segmentation() segment.Config {
	cfg, def := s.d.Segmentation, segment.DefaultConfig()
	if cfg.WarnUtilisation <= 0 {
		cfg.WarnUtilisation = def.WarnUtilisation
	}
	if cfg.MinSessions <= 0 {
		cfg.MinSessions = def.MinSessions
	}
	return cfg
}

func (s *Server) segmentRecommendations(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), segmentationSince)
	if err != nil {
		return nil, err
	}
	minSessions := s.segmentation().MinSessions
	if v := c.q.str("min_sessions"); v != "" {
		if minSessions, err = strconv.Atoi(v); err != nil || minSessions < 1 || minSessions > 1_000_000 {
			return nil, badParam("min_sessions", "%q is not a whole number within 1..1000000", v)
		}
	}
	return segment.Recommend(c.ctx, s.d.Store, sc, minSessions)
}

func (s *Server) segmentCapacity(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), segmentationSince)
	if err != nil {
		return nil, err
	}
	return segment.Capacity(c.ctx, s.d.Store, minutes(sc), s.segmentation(), c.q.now)
}
