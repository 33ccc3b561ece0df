package config

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// Load reads the daemon config file at path (none when path is empty), lets
// the SLUICE_* variables of environ override it, applies the defaults and
// checks the result. It returns every problem found, each naming the file or
// variable and the key.
func Load(path string, environ []string) (*Daemon, error) {
	d := &Daemon{}
	var ps Problems
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, Problems{{File: path, Message: "cannot read the daemon config: " + err.Error()}}
		}
		ps = append(ps, decodeStrict(data, d).in(path, "")...)
	}
	envPs, unknown := applyEnv(d, environ)
	ps = append(ps, envPs...)
	for _, name := range unknown {
		d.Warnings = append(d.Warnings, fmt.Sprintf("environment variable %s names no setting; ignored", name))
	}
	if d.REST.Listen == "" {
		d.REST.Listen = d.defaultListen(REST{})
	}
	if d.Registry != nil && d.Registry.Listen == "" {
		d.Registry.Listen = d.defaultListen(Registry{})
	}
	applyDefaults(reflect.ValueOf(d).Elem())
	file := path
	if file == "" {
		file = "daemon config"
	}
	ps = append(ps, d.check().in(file, "")...)
	if len(ps) > 0 {
		return nil, ps
	}
	return d, nil
}

// check validates the decoded settings beyond their types.
func (d *Daemon) check() Problems {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(d.StateDir) == "" {
		add("state.dir", "must not be empty")
	}
	if d.ShutdownTimeoutMS <= 0 {
		add("shutdown.timeout.ms", "must be a positive number of milliseconds, not %d", d.ShutdownTimeoutMS)
	}
	ps = append(ps, d.checkCluster()...)
	listen := func(key, addr string) {
		if msg := checkListen(addr); msg != "" {
			add(key, "%s", msg)
		}
	}
	listen("rest.listen", d.REST.Listen)
	listen("sse.listen", d.SSE.Listen)
	if d.Registry != nil {
		listen("registry.listen", d.Registry.Listen)
	}
	open := func(group, addr string, allowed bool) {
		switch {
		case d.REST.Auth != nil && allowed:
			add(group+".allow.unauthenticated", "is true while rest.auth is set: remove one of them")
		case d.REST.Auth == nil && !allowed && !Loopback(addr):
			add(group+".listen", "%q listens beyond loopback without authentication: set rest.auth (user and password, or tokens), "+
				"listen on 127.0.0.1, or set %s.allow.unauthenticated to true to serve it to anyone who can reach it", addr, group)
		case d.REST.Auth == nil && allowed && !Loopback(addr):
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s.listen %s serves without authentication beyond loopback (%s.allow.unauthenticated): anyone who can reach it can use it", group, addr, group))
		}
	}
	open("rest", d.REST.Listen, d.REST.AllowUnauthenticated)
	if addr := d.EmbeddedRegistry(); addr != "" {
		allowed := false
		if d.Registry != nil {
			allowed = d.Registry.AllowUnauthenticated
		}
		open("registry", addr, allowed)
	}
	if d.SSE.AllowUnauthenticated && !Loopback(d.SSE.Listen) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("sse.listen %s serves SSE sinks with auth.type none beyond loopback (sse.allow.unauthenticated): anyone who can reach it can read their streams", d.SSE.Listen))
	}
	if t := d.REST.TLS; t != nil {
		ps = append(ps, checkKeyPair("rest.tls", t.CertFile, t.KeyFile, true)...)
	}
	if t := d.SSE.TLS; t != nil {
		ps = append(ps, checkKeyPair("sse.tls", t.CertFile, t.KeyFile, true)...)
	}
	if a := d.REST.Auth; a != nil {
		if (a.User == "") != (a.Password == "") {
			add("rest.auth", "user and password must be set together")
		}
		if a.User == "" && len(a.Tokens) == 0 {
			add("rest.auth", "set user and password, or tokens, or remove rest.auth")
		}
		if strings.Contains(a.User, ":") {
			add("rest.auth.user", "must not contain ':' (HTTP basic authentication separates user and password with it)")
		}
		for i, t := range a.Tokens {
			if len(t) < 16 {
				add(fmt.Sprintf("rest.auth.tokens[%d]", i), "a bearer token must be at least 16 characters")
			}
		}
	}
	k := d.Kafka
	if k.Embedded != nil {
		listen("kafka.embedded.listen", k.Embedded.Listen)
		if k.BootstrapServers != "" {
			add("kafka.embedded", "cannot be combined with kafka.bootstrap.servers: choose the embedded broker or an external cluster")
		}
	}
	if k.BootstrapServers != "" {
		for _, s := range strings.Split(k.BootstrapServers, ",") {
			if msg := checkListen(strings.TrimSpace(s)); msg != "" || strings.HasPrefix(strings.TrimSpace(s), ":") {
				add("kafka.bootstrap.servers", "invalid broker address %q: want host:port", strings.TrimSpace(s))
			}
		}
	} else if k.SASL != nil || k.TLS != nil {
		add("kafka", "sasl and tls apply to an external cluster: set kafka.bootstrap.servers")
	}
	if s := k.SASL; s != nil {
		if !slices.Contains([]string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, s.Mechanism) {
			add("kafka.sasl.mechanism", "invalid value %q: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", s.Mechanism)
		}
		if s.Username == "" {
			add("kafka.sasl.username", "missing required setting")
		}
		if s.Password == "" {
			add("kafka.sasl.password", "missing required setting")
		}
	}
	ps = append(ps, checkClientTLS("kafka.tls", k.TLS)...)
	r := d.SchemaRegistry
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("schema.registry.url", "invalid URL %q: want http(s)://host:port", r.URL)
		} else if u.User != nil {
			add("schema.registry.url", "must not carry credentials: use schema.registry.user and schema.registry.password")
		}
		if d.Registry != nil {
			add("registry", "cannot be combined with schema.registry.url: choose the embedded registry or an external one")
		}
	} else if k.BootstrapServers != "" && d.Registry == nil {
		add("schema.registry.url", "missing: an external Kafka cluster needs a schema registry (or add \"registry\" to serve the embedded one)")
	}
	if (r.User == "") != (r.Password == "") {
		add("schema.registry", "user and password must be set together")
	}
	ps = append(ps, checkClientTLS("schema.registry.tls", r.TLS)...)
	if _, cps := d.Converters(); cps != nil {
		ps = append(ps, cps...)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, d.Log.Level) {
		add("log.level", "invalid value %q: must be one of debug, info, warn, error", d.Log.Level)
	}
	if !slices.Contains([]string{"json", "text"}, d.Log.Format) {
		add("log.format", "invalid value %q: must be json or text", d.Log.Format)
	}
	for i, p := range d.ConfigProviders.File.AllowedPaths {
		if !filepath.IsAbs(p) {
			add(fmt.Sprintf("config.providers.file.allowed.paths[%d]", i), "must be an absolute path, not %q", p)
		}
	}
	return ps
}

func checkClientTLS(key string, t *ClientTLS) Problems {
	if t == nil {
		return nil
	}
	var ps Problems
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify {
			ps = append(ps, Problem{Key: key + ".enabled", Message: "is false while other TLS settings are set: set it to true to use TLS"})
		}
		return ps
	}
	if t.CAFile != "" {
		if _, err := os.Stat(t.CAFile); err != nil {
			ps = append(ps, Problem{Key: key + ".ca.file", Message: "cannot read: " + err.Error()})
		}
	}
	if t.CertFile != "" || t.KeyFile != "" {
		ps = append(ps, checkKeyPair(key, t.CertFile, t.KeyFile, false)...)
	}
	return ps
}

// checkKeyPair checks that a certificate and its key load.
func checkKeyPair(key, cert, priv string, required bool) Problems {
	switch {
	case cert == "" && priv == "" && !required:
		return nil
	case cert == "" || priv == "":
		return Problems{{Key: key, Message: "cert.file and key.file must be set together"}}
	}
	if _, err := tls.LoadX509KeyPair(cert, priv); err != nil {
		return Problems{{Key: key, Message: "cannot load the certificate and key: " + err.Error()}}
	}
	return nil
}

// checkCluster validates the cluster mode settings.
func (d *Daemon) checkCluster() Problems {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	type setting struct {
		key string
		n   int
	}
	for _, s := range []setting{
		{"config.storage.replication.factor", d.ConfigStorageReplicationFactor},
		{"offset.storage.replication.factor", d.OffsetStorageReplicationFactor},
		{"status.storage.replication.factor", d.StatusStorageReplicationFactor},
	} {
		if key, n := s.key, s.n; n < 1 && n != -1 {
			add(key, "must be at least 1, or -1 for the broker's default, not %d", n)
		}
	}
	for _, s := range []setting{
		{"offset.storage.partitions", d.OffsetStoragePartitions},
		{"status.storage.partitions", d.StatusStoragePartitions},
		{"session.timeout.ms", d.SessionTimeoutMS},
		{"heartbeat.interval.ms", d.HeartbeatIntervalMS},
		{"rebalance.timeout.ms", d.RebalanceTimeoutMS},
	} {
		if key, n := s.key, s.n; n < 1 {
			add(key, "must be positive, not %d", n)
		}
	}
	if d.HeartbeatIntervalMS >= d.SessionTimeoutMS {
		add("heartbeat.interval.ms", "must be less than session.timeout.ms (%d), not %d", d.SessionTimeoutMS, d.HeartbeatIntervalMS)
	}
	if d.GroupID == "" {
		return ps
	}
	if d.Kafka.BootstrapServers == "" {
		add("group.id", "cluster mode shares connectors through a Kafka cluster: set kafka.bootstrap.servers")
	}
	topics := map[string]string{}
	for _, t := range [][2]string{{"config.storage.topic", d.ConfigStorageTopic}, {"offset.storage.topic", d.OffsetStorageTopic}, {"status.storage.topic", d.StatusStorageTopic}} {
		if other, dup := topics[t[1]]; dup {
			add(t[0], "names the same topic as %s (%q): each storage topic needs its own", other, t[1])
		}
		topics[t[1]] = t[0]
	}
	return ps
}
