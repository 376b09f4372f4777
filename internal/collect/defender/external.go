package defender

import (
	"context"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// startExternal subscribes to the report topics of another broker
// (mosquitto, AWS IoT through a bridge, …) and publishes the replies
// there. That broker's own ACLs decide who may report for which thing.
func (c *Collector) startExternal(ctx context.Context, errs chan<- error) (stop func()) {
	m := c.cfg.MQTT
	opts := paho.NewClientOptions().AddBroker(m.Broker).SetClientID(m.ClientID).
		SetUsername(m.Username).SetPassword(m.Password).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(2 * time.Second).
		// Each report is handled on its own goroutine: a handler waiting
		// for room in the queue must not hold up the client's acks.
		SetOrderMatters(false)
	var client paho.Client
	handle := func(_ paho.Client, msg paho.Message) {
		thing, f, ok := parseReportTopic(msg.Topic())
		if !ok {
			return
		}
		topic := msg.Topic()
		c.submit(ctx, report{thing: thing, format: f, payload: msg.Payload(), transport: "mqtt", source: topic,
			respond: func(r Reply) {
				// Not waited for: the write loop must not stall on a slow broker.
				client.Publish(replyTopic(topic, &r), 1, false, r.Encode(f))
			}})
	}
	// Subscribing on every (re)connection restores the subscription a
	// clean session loses.
	opts.SetOnConnectHandler(func(cl paho.Client) {
		if t := cl.Subscribe(reportFilter, 1, handle); t.WaitTimeout(10*time.Second) && t.Error() != nil {
			c.log.Error("defender: subscribing on the external broker", "broker", m.Broker, "error", t.Error())
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		c.log.Warn("defender: lost the external broker; reconnecting", "broker", m.Broker, "error", err)
	})
	client = paho.NewClient(opts)
	t := client.Connect()
	// The client retries an unreachable broker by itself; only an error
	// it gives up on (a bad URL, refused credentials) is fatal.
	go func() {
		<-t.Done()
		if t.Error() != nil {
			errs <- fmt.Errorf("defender.mqtt.broker: %w", t.Error())
		}
	}()
	return func() { client.Disconnect(250) }
}
