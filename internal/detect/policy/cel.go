package policy

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store/derive"
)

// celField is a variable CEL expressions can use. Names are those of the
// filter language and of the JSON schema (docs/schema.md); dotted names
// are declared as qualified identifiers, so `dst.segment` needs no
// message type and is read straight from the session.
type celField struct {
	typ *cel.Type
	get func(*schema.Session) ref.Val
}

// celFields is the catalogue, read-only once built.
var celFields = func() map[string]celField {
	m := map[string]celField{}
	str := func(name string, f func(*schema.Session) string) {
		m[name] = celField{cel.StringType, func(s *schema.Session) ref.Val { return types.String(f(s)) }}
	}
	num := func(name string, f func(*schema.Session) uint64) {
		// Counters are CEL ints so that `orig_bytes > 100000000` needs no
		// `u` suffix; int64 holds any real counter.
		m[name] = celField{cel.IntType, func(s *schema.Session) ref.Val { return types.Int(f(s)) }}
	}
	strs := func(name string, f func(*schema.Session) []string) {
		m[name] = celField{cel.ListType(cel.StringType), func(s *schema.Session) ref.Val {
			return types.NewStringList(types.DefaultTypeAdapter, f(s))
		}}
	}
	for _, side := range []struct {
		name string
		end  func(*schema.Session) *schema.Endpoint
		// bytes and packets this end sent
		bytes, pkts func(*schema.Session) uint64
	}{
		{"src", func(s *schema.Session) *schema.Endpoint { return &s.Orig },
			func(s *schema.Session) uint64 { return s.OrigBytes }, func(s *schema.Session) uint64 { return s.OrigPkts }},
		{"dst", func(s *schema.Session) *schema.Endpoint { return &s.Resp },
			func(s *schema.Session) uint64 { return s.RespBytes }, func(s *schema.Session) uint64 { return s.RespPkts }},
	} {
		end, p := side.end, side.name+"."
		str(p+"ip", func(s *schema.Session) string { return end(s).IP.String() })
		num(p+"port", func(s *schema.Session) uint64 { return uint64(end(s).Port) })
		str(p+"mac", func(s *schema.Session) string { return end(s).MAC })
		str(p+"asset", func(s *schema.Session) string { return end(s).Asset })
		str(p+"asset_name", func(s *schema.Session) string { return end(s).AssetName })
		str(p+"account", func(s *schema.Session) string { return end(s).Account })
		strs(p+"tags", func(s *schema.Session) []string { return end(s).Tags })
		str(p+"segment", func(s *schema.Session) string { return end(s).Segment })
		str(p+"country", func(s *schema.Session) string { return derive.Country(end(s)) })
		num(p+"asn", func(s *schema.Session) uint64 { return uint64(derive.ASN(end(s))) })
		num(p+"bytes", side.bytes)
		num(p+"packets", side.pkts)
	}
	for name, f := range map[string]func(*schema.Session) uint64{
		"orig_bytes":   func(s *schema.Session) uint64 { return s.OrigBytes },
		"resp_bytes":   func(s *schema.Session) uint64 { return s.RespBytes },
		"orig_pkts":    func(s *schema.Session) uint64 { return s.OrigPkts },
		"resp_pkts":    func(s *schema.Session) uint64 { return s.RespPkts },
		"bytes":        func(s *schema.Session) uint64 { return s.OrigBytes + s.RespBytes },
		"packets":      func(s *schema.Session) uint64 { return s.OrigPkts + s.RespPkts },
		"ip_bytes":     func(s *schema.Session) uint64 { return s.OrigIPBytes + s.RespIPBytes },
		"ip_proto":     func(s *schema.Session) uint64 { return uint64(s.Proto) },
		"missed_bytes": func(s *schema.Session) uint64 { return s.MissedBytes },
	} {
		num(name, f)
	}
	for name, f := range map[string]func(*schema.Session) string{
		"uid":          func(s *schema.Session) string { return s.UID },
		"proto":        func(s *schema.Session) string { return s.Transport },
		"app":          func(s *schema.Session) string { return s.App },
		"conn_state":   func(s *schema.Session) string { return s.ConnState },
		"history":      func(s *schema.Session) string { return s.History },
		"direction":    func(s *schema.Session) string { return s.Direction },
		"end_reason":   func(s *schema.Session) string { return s.EndReason },
		"tenant":       func(s *schema.Session) string { return s.Tenant },
		"sensor":       func(s *schema.Session) string { return s.Sensor },
		"source":       func(s *schema.Session) string { return s.Source },
		"community_id": func(s *schema.Session) string { return s.CommunityID },
		"server_name":  derive.ServerName,
		"action":       derive.FlowAction,
	} {
		str(name, f)
	}
	flow := func(f func(*schema.Flow) string) func(*schema.Session) string {
		return func(s *schema.Session) string {
			if s.Flow == nil {
				return ""
			}
			return f(s.Flow)
		}
	}
	for name, f := range map[string]func(*schema.Flow) string{
		"action":    func(f *schema.Flow) string { return f.Action },
		"direction": func(f *schema.Flow) string { return f.Direction },
		"account":   func(f *schema.Flow) string { return f.Account },
		"region":    func(f *schema.Flow) string { return f.Region },
		"vpc":       func(f *schema.Flow) string { return f.VPC },
		"subnet":    func(f *schema.Flow) string { return f.Subnet },
		"instance":  func(f *schema.Flow) string { return f.Instance },
		"interface": func(f *schema.Flow) string { return f.Interface },
		"rule":      func(f *schema.Flow) string { return f.Rule },
	} {
		str("flow."+name, flow(f))
	}
	strs("intel", derive.Intel)
	m["duration"] = celField{cel.DurationType, func(s *schema.Session) ref.Val { return types.Duration{Duration: s.End.Sub(s.Start)} }}
	m["final"] = celField{cel.BoolType, func(s *schema.Session) ref.Val { return types.Bool(s.Final) }}
	return m
}()

// newCELEnv declares every field of the catalogue.
func newCELEnv() (*cel.Env, error) {
	opts := make([]cel.EnvOption, 0, len(celFields))
	for name, f := range celFields {
		opts = append(opts, cel.Variable(name, f.typ))
	}
	return cel.NewEnv(opts...)
}

// program is a compiled `when` expression.
type program struct{ prg cel.Program }

// compileCEL type-checks an expression to bool and plans it once.
func compileCEL(env *cel.Env, expr string) (*program, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		msgs := make([]string, 0, len(iss.Errors()))
		for _, e := range iss.Errors() {
			at := fmt.Sprintf("column %d", e.Location.Column()+1)
			if e.Location.Line() > 1 {
				at = fmt.Sprintf("line %d %s", e.Location.Line(), at)
			}
			msgs = append(msgs, at+": "+e.Message)
		}
		return nil, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("expression is %s, not bool", ast.OutputType())
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &program{prg}, nil
}

// eval is false when the expression fails at run time (an overflow, a
// division by zero): a rule must not fire on what it could not decide.
// The failure is counted.
func (p *program) eval(s *schema.Session, act *activation) bool {
	act.session = s
	out, _, err := p.prg.Eval(act)
	act.session = nil
	if err != nil {
		act.errors++
		return false
	}
	b, ok := out.(types.Bool)
	return ok && bool(b)
}

// activation resolves the catalogue's names on the session being
// evaluated. One is reused for every session of a goroutine, so that
// evaluation allocates only the values CEL asks for.
type activation struct {
	session *schema.Session
	errors  uint64 // evaluations that failed
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	f, ok := celFields[name]
	if !ok || a.session == nil {
		return nil, false
	}
	return f.get(a.session), true
}

func (a *activation) Parent() interpreter.Activation { return nil }
