package defender

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// The embedded broker is mochi-mqtt: the best maintained MQTT broker
// written in Go to embed (MQTT 3.1, 3.1.1 and 5, hooks for auth and
// publishes), so devices need nothing but osprey to report to.

// startBroker starts the embedded broker; stop closes it.
func (c *Collector) startBroker(ctx context.Context) (stop func(), err error) {
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: c.log.With("component", "defender-mqtt")})
	h := &brokerHook{c: c, srv: srv, ctx: ctx}
	if err := srv.AddHook(h, nil); err != nil {
		return nil, err
	}
	tlsConfig, err := c.serverTLS()
	if err != nil {
		return nil, err
	}
	l := listeners.NewTCP(listeners.Config{ID: "defender", Address: c.cfg.MQTT.Listen, TLSConfig: tlsConfig})
	if err := srv.AddListener(l); err != nil {
		return nil, fmt.Errorf("defender.mqtt.listen: %w", err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, err
	}
	c.mqttAddr = l.Address()
	return func() { srv.Close() }, nil
}

// serverTLS reads the broker's certificate and, when set, the CA that
// device certificates must chain to.
func (c *Collector) serverTLS() (*tls.Config, error) {
	t := c.cfg.MQTT.TLS
	if t.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("defender.mqtt.tls: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientCA != "" {
		pem, err := os.ReadFile(t.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("defender.mqtt.tls.client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("defender.mqtt.tls.client_ca: no PEM certificate in %s", t.ClientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// brokerHook authenticates devices, keeps them to their own Defender
// topics, and takes the reports they publish.
type brokerHook struct {
	mqtt.HookBase
	c   *Collector
	srv *mqtt.Server
	ctx context.Context
}

func (h *brokerHook) ID() string { return "osprey-defender" }

func (h *brokerHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck || b == mqtt.OnPublish
}

func (h *brokerHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	_, ok := h.principal(cl, pk.Connect.Username, pk.Connect.Password)
	return ok
}

func (h *brokerHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	p, ok := h.principal(cl, cl.Properties.Username, nil)
	return ok && mayUse(p, topic, write)
}

// principal says who the client is: its certificate's thing, or its
// user. The password was checked at CONNECT; later checks pass none.
func (h *brokerHook) principal(cl *mqtt.Client, username, password []byte) (principal, bool) {
	a := h.c.auth
	if a.certs {
		tc, ok := cl.Net.Conn.(*tls.Conn)
		if !ok {
			return principal{}, false
		}
		return certificate(tc.ConnectionState())
	}
	if password == nil && a.users != nil {
		u, ok := a.users[string(username)]
		return principal{name: string(username), things: u.things}, ok
	}
	return a.password(string(username), string(password))
}

// OnPublish takes a report. It runs on the publisher's connection, so a
// full queue holds that device back; the reply is published once the
// report's metrics are stored.
func (h *brokerHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	thing, f, ok := parseReportTopic(pk.TopicName)
	if !ok || cl.Net.Inline {
		return pk, nil
	}
	p, _ := h.principal(cl, cl.Properties.Username, nil)
	topic := pk.TopicName
	h.c.submit(h.ctx, report{thing: thing, format: f, payload: pk.Payload, transport: "mqtt", source: topic,
		principal: p, respond: func(r Reply) {
			if err := h.srv.Publish(replyTopic(topic, &r), r.Encode(f), false, 1); err != nil && !errors.Is(err, context.Canceled) {
				h.c.count.replyErrors.Inc()
			}
		}})
	return pk, nil
}
