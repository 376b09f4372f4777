package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/hec"
	"github.com/osprey-ndr/osprey/internal/deliver/ocsf"
	"github.com/osprey-ndr/osprey/internal/deliver/syslog"
	"github.com/osprey-ndr/osprey/internal/deliver/webhook"
)

// Outputs lists where findings — and, where asked for, sessions and
// device metrics — are delivered (docs/outputs.md). Each entry is read
// over its own defaults, strictly: unknown keys are errors.
type Outputs []Output

// Output is one output: the keys every output has inline (name, type,
// kinds, filters, queue, batch, retry), and the section of its type.
// Adding a type adds its section here, a case to section and a builder
// in cmd/osprey/outputs.go.
type Output struct {
	deliver.Config `yaml:",inline"`
	Webhook        *webhook.Config `yaml:"webhook"`
	Syslog         *syslog.Config  `yaml:"syslog"`
	SplunkHEC      *hec.Config     `yaml:"splunk_hec"`
	OCSF           *ocsf.Config    `yaml:"ocsf"`
}

// outputYAML is what an entry is decoded into: every section present,
// at its defaults, so that the strict walk fills them key by key.
type outputYAML struct {
	deliver.Config `yaml:",inline"`
	Webhook        webhook.Config `yaml:"webhook"`
	Syslog         syslog.Config  `yaml:"syslog"`
	SplunkHEC      hec.Config     `yaml:"splunk_hec"`
	OCSF           ocsf.Config    `yaml:"ocsf"`
}

// OutputTypes are the output types, as `type:` names them.
var OutputTypes = []string{"webhook", "syslog", "splunk_hec", "ocsf"}

// section is the type's section, nil when it is absent; ok is false for
// an unknown type.
func (o Output) section(typ string) (sec interface{ Validate() error }, present, ok bool) {
	switch typ {
	case "webhook":
		return o.Webhook, o.Webhook != nil, true
	case "syslog":
		return o.Syslog, o.Syslog != nil, true
	case "splunk_hec":
		return o.SplunkHEC, o.SplunkHEC != nil, true
	case "ocsf":
		return o.OCSF, o.OCSF != nil, true
	}
	return nil, false, false
}

// UnmarshalYAML reads the list, each entry over deliver.DefaultConfig and
// its type's defaults.
func (outs *Outputs) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			*outs = nil
			return nil
		}
		return errors.New("expected a list of outputs")
	}
	out := make(Outputs, len(n.Content))
	for i, el := range n.Content {
		y := outputYAML{Config: deliver.DefaultConfig(), Webhook: webhook.DefaultConfig(), Syslog: syslog.DefaultConfig(),
			SplunkHEC: hec.DefaultConfig(), OCSF: ocsf.DefaultConfig()}
		if err := walk("", el, reflect.ValueOf(&y).Elem(), fmt.Sprintf("outputs[%d]", i)); err != nil {
			// walk names the file first; the caller adds it, so this is
			// "line N: key: …".
			return errors.New("line " + strings.TrimPrefix(err.Error(), ":"))
		}
		out[i].Config = y.Config
		if el.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(el.Content); j += 2 {
				switch el.Content[j].Value {
				case "webhook":
					out[i].Webhook = &y.Webhook
				case "syslog":
					out[i].Syslog = &y.Syslog
				case "splunk_hec":
					out[i].SplunkHEC = &y.SplunkHEC
				case "ocsf":
					out[i].OCSF = &y.OCSF
				}
			}
		}
	}
	*outs = out
	return nil
}

func (outs Outputs) validate() error {
	var errs []error
	names, dirs := map[string]int{}, map[string]int{}
	for i, o := range outs {
		key := fmt.Sprintf("outputs[%d]", i)
		errs = append(errs, under(key+".", o.Config.Validate()))
		if j, dup := names[o.Name]; dup && o.Name != "" {
			errs = append(errs, fmt.Errorf("%s.name: %q is also outputs[%d]'s name", key, o.Name, j))
		}
		names[o.Name] = i
		if d := o.Queue.Dir; d != "" {
			if j, dup := dirs[d]; dup {
				errs = append(errs, fmt.Errorf("%s.queue.dir: %q is also outputs[%d]'s queue", key, d, j))
			}
			dirs[d] = i
		}
		for _, typ := range OutputTypes {
			if _, present, _ := o.section(typ); present && typ != o.Type {
				errs = append(errs, fmt.Errorf("%s.%s: set, but the output's type is %q", key, typ, o.Type))
			}
		}
		if o.Type == "" {
			continue
		}
		if o.Type == "ocsf" && slices.ContainsFunc(o.Kinds, func(k string) bool { kind, _ := deliver.ParseKind(k); return kind == deliver.KindMetric }) {
			errs = append(errs, fmt.Errorf("%s.kinds: OCSF has no class for device metrics; an ocsf output takes findings and sessions", key))
		}
		sec, present, ok := o.section(o.Type)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s.type: unknown output type %q (known: %s)", key, o.Type, strings.Join(OutputTypes, ", ")))
		case !present:
			errs = append(errs, fmt.Errorf("%s.%s: required for type %s", key, o.Type, o.Type))
		default:
			errs = append(errs, under(key+"."+o.Type+".", sec.Validate()))
		}
	}
	return errors.Join(errs...)
}

// Wants says whether any output carries events of kind k (findings,
// sessions, metrics).
func (outs Outputs) Wants(kind string) bool {
	for _, o := range outs {
		if slices.Contains(o.Kinds, kind) {
			return true
		}
	}
	return false
}
