// Package deliver sends what Osprey finds and sees to other systems —
// webhooks, SIEMs, log pipelines — without losing it when they are down.
//
// Each configured output is a route: a filter over events (findings, and
// sessions or device metrics where asked for), an Encoder that turns an
// event into the bytes the receiver wants (a template, or the output's
// native mapping), an on-disk Queue, and a Destination that delivers
// batches of those bytes. A Router fans events out to its outputs; it is
// a detect.FindingSink, and gives a pipeline.SessionSink and a
// collect.MetricSink for the other two kinds.
//
// Delivery is at least once: a record leaves its queue only once the
// destination accepted it, so a crash between delivery and that
// acknowledgement sends it again after the restart. Output types are
// subpackages (webhook, …) that implement Destination; docs/outputs.md
// says how to add one.
package deliver
