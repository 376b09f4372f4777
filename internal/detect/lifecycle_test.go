package detect

import (
	"context"
	"errors"
	"testing"
	"time"
)

// quiet writes sessions that no detector reports, one a minute from
// from to to, to move session time on.
func quiet(t *testing.T, e *Engine, from, to time.Duration) {
	t.Helper()
	for d := from; d <= to; d += time.Minute {
		write(t, e, session("quiet", d, 80))
	}
}

func TestClearAfterQuietThenReopen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		override map[string]time.Duration
		clear    time.Duration // when the finding must be cleared
	}{
		{"default hour", nil, time.Hour},
		{"per-detector", map[string]time.Duration{"scan": 5 * time.Minute}, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ClearAfterByDetector = tc.override
			sink := &memSink{}
			e, reg := newEngineReg(t, cfg, sink, scanner())
			write(t, e, session("C1", 0, 22))
			first := sink.latest()[0].ID

			quiet(t, e, time.Minute, tc.clear-time.Minute)
			if f := sink.latest()[0]; f.State != StateActive {
				t.Fatalf("state %s before %v of quiet, want active", f.State, tc.clear)
			}
			quiet(t, e, tc.clear, tc.clear+time.Minute)
			if f := sink.latest()[0]; f.State != StateCleared || evidence(t, f).State != StateCleared {
				t.Fatalf("state %s after %v of quiet, want cleared", f.State, tc.clear)
			}
			if n := metricValue(t, reg, "osprey_detect_active_findings"); n != 0 {
				t.Errorf("%v active findings after clearing, want 0", n)
			}

			// A report after clearing opens a new occurrence.
			write(t, e, session("C2", tc.clear+2*time.Minute, 22))
			e.Close()
			got := sink.latest()
			if len(got) != 2 || got[1].ID == first || got[1].State != StateActive || got[0].State != StateCleared {
				t.Fatalf("findings %+v, want the cleared one and a new active one", got)
			}
			if ev := evidence(t, got[1]); ev.Count != 1 {
				t.Errorf("new occurrence counts %d reports, want 1", ev.Count)
			}
		})
	}
}

func TestAcknowledgeAndVerdicts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name               string
		act                func(e *Engine, id string) error
		wantState, verdict string
		stillOpen          bool
	}{
		{"acknowledge", func(e *Engine, id string) error { return e.Acknowledge(ctx, id) }, StateAcknowledged, "", true},
		{"true positive", func(e *Engine, id string) error { return e.Verdict(ctx, id, TruePositive, "real scan") },
			StateAcknowledged, TruePositive, true},
		{"false positive", func(e *Engine, id string) error { return e.Verdict(ctx, id, FalsePositive, "vuln scanner") },
			StateFalsePositive, FalsePositive, false},
		{"benign positive", func(e *Engine, id string) error { return e.Verdict(ctx, id, BenignPositive, "pentest") },
			StateBenignPositive, BenignPositive, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memSink{}
			e := newEngine(t, DefaultConfig(), sink, scanner())
			write(t, e, session("C1", 0, 22))
			id := sink.latest()[0].ID
			if err := tc.act(e, id); err != nil {
				t.Fatal(err)
			}
			f := sink.latest()[0]
			ev := evidence(t, f)
			if f.State != tc.wantState || ev.State != tc.wantState || ev.Verdict != tc.verdict {
				t.Errorf("state %s (evidence %s), verdict %q; want %s, %q", f.State, ev.State, ev.Verdict, tc.wantState, tc.verdict)
			}
			if _, open := e.byID[id]; open != tc.stillOpen {
				t.Errorf("open after %s: %v, want %v", tc.name, open, tc.stillOpen)
			}
			// A repeat of an acknowledged finding counts and keeps its state.
			write(t, e, session("C2", time.Minute, 22))
			if tc.stillOpen {
				e.Close()
				f = sink.latest()[0]
				if ev := evidence(t, f); f.State != tc.wantState || ev.Count != 2 {
					t.Errorf("after a repeat: state %s count %d, want %s 2", f.State, ev.Count, tc.wantState)
				}
			}
		})
	}
}

func TestVerdictErrors(t *testing.T) {
	sink := &memSink{}
	e := newEngine(t, DefaultConfig(), sink, scanner())
	write(t, e, session("C1", 0, 22))
	id := sink.latest()[0].ID
	if err := e.Verdict(context.Background(), id, "maybe", ""); err == nil {
		t.Error("verdict \"maybe\" accepted")
	}
	if ev := evidence(t, sink.latest()[0]); ev.Verdict != "" {
		t.Errorf("a refused verdict left %q in the evidence", ev.Verdict)
	}
	for _, err := range []error{
		e.Acknowledge(context.Background(), "nope"),
		e.Verdict(context.Background(), "nope", FalsePositive, ""),
	} {
		if !errors.Is(err, ErrUnknownFinding) {
			t.Errorf("unknown id: %v, want ErrUnknownFinding", err)
		}
	}
}
