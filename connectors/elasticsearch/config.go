package elasticsearch

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// Spec declares every configuration key of the Elasticsearch sink, with the
// names and defaults of Confluent's Elasticsearch sink connector.
var Spec = &conf.Spec{
	Prefixes: []string{"transforms", "predicates"},
	Keys: append([]conf.Key{
		{Name: "connector.class", Type: conf.Class, Required: true, Doc: "elasticsearch, or io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"},
		{Name: "tasks.max", Type: conf.Int, Default: "1", Min: 1, Max: 1024, Doc: "How many tasks the sink runs, each a consumer of the group connect-<name>, which splits the topics' partitions among them; in cluster mode the tasks are spread over the instances. Tasks beyond the partitions idle."},
		{Name: "topics", Type: conf.List, Group: "Topics", Doc: "Topics to consume; one of topics and topics.regex is required."},
		{Name: "topics.regex", Type: conf.String, Check: checkRegex, Group: "Topics", Doc: "Regular expression of the topics to consume, instead of topics."},
		{Name: "connection.url", Type: conf.List, Required: true, Check: checkURLs, Group: "Connection", Doc: "Elasticsearch URLs (http or https), comma-separated; requests are spread over them."},
		{Name: "connection.username", Type: conf.String, Group: "Connection", Doc: "User for basic authentication."},
		{Name: "connection.password", Type: conf.Password, Group: "Connection", Doc: "Password for basic authentication."},
		{Name: "connection.api.key", Type: conf.Password, Group: "Connection", Doc: "Elasticsearch API key (the base64 id:key form), instead of a user and password."},
		{Name: "connection.timeout.ms", Type: conf.Int, Default: "1000", Min: 1, Max: 1 << 30, Group: "Connection", Doc: "How long to wait for a connection to be established."},
		{Name: "read.timeout.ms", Type: conf.Int, Default: "3000", Min: 1, Max: 1 << 30, Group: "Connection", Doc: "How long to wait for the answer to one request; a timeout is retried like a 503."},
		{Name: "elastic.security.protocol", Type: conf.String, Default: "PLAINTEXT", Allowed: []string{"PLAINTEXT", "SSL"}, Group: "Security", Doc: "SSL verifies https servers with the configured CA file (or the system's CAs) and may present a client certificate."},
		{Name: "elastic.https.ssl.ca.file", Type: conf.String, Group: "Security", Doc: "PEM file of the CA certificates that verify the servers."},
		{Name: "elastic.https.ssl.cert.file", Type: conf.String, Group: "Security", Doc: "PEM file of the client certificate."},
		{Name: "elastic.https.ssl.key.file", Type: conf.String, Group: "Security", Doc: "PEM file of the client certificate's key."},
		{Name: "elastic.https.ssl.endpoint.identification.algorithm", Type: conf.String, Default: "https", Allowed: []string{"", "https"}, Group: "Security", Doc: "https checks that the server certificate names the host; empty skips that check."},
		{Name: "elastic.https.ssl.truststore.location", Type: conf.String, Check: noJavaStore("elastic.https.ssl.ca.file"), Group: "Security", Doc: "Java trust stores are not read; use elastic.https.ssl.ca.file."},
		{Name: "elastic.https.ssl.keystore.location", Type: conf.String, Check: noJavaStore("elastic.https.ssl.cert.file and elastic.https.ssl.key.file"), Group: "Security", Doc: "Java key stores are not read; use elastic.https.ssl.cert.file and elastic.https.ssl.key.file."},
		{Name: "key.ignore", Type: conf.Boolean, Default: "false", Group: "Data", Doc: "Ignore record keys: document ids are topic+partition+offset, so every record is a new document and deletes cannot apply."},
		{Name: "schema.ignore", Type: conf.Boolean, Default: "false", Group: "Data", Doc: "Accepted for existing configurations. sluice never writes mappings: indices get Elasticsearch's dynamic mapping or the mapping of a matching index template either way."},
		{Name: "write.method", Type: conf.String, Default: "insert", Allowed: []string{"insert", "upsert"}, Group: "Data", Doc: "insert replaces the whole document; upsert keeps fields of the stored document that the record does not carry. Both carry the record's external version."},
		{Name: "behavior.on.null.values", Type: conf.String, Default: "fail", Allowed: []string{"ignore", "delete", "fail"}, Group: "Data", Doc: "What a record with a null value (a tombstone) does: nothing, delete the document of its key, or fail the connector."},
		{Name: "behavior.on.malformed.documents", Type: conf.String, Default: "fail", Allowed: []string{"ignore", "warn", "fail"}, Group: "Data", Doc: "What a document Elasticsearch rejects (mapping or parse errors, ids over 512 bytes) does: skip it, skip it with a warning, or fail the connector. Skipped documents go to the dead-letter topic when one is configured."},
		{Name: "unavailable.value.placeholder", Type: conf.String, Default: "__debezium_unavailable_value", Group: "Data", Doc: "The source's placeholder for unchanged TOASTed values; fields holding it are never written, the stored value is kept."},
		{Name: "type.name", Type: conf.String, Deprecated: "mapping types were removed in Elasticsearch 7 and the value is ignored", Group: "Data", Doc: "Obsolete; accepted for existing configurations."},
		{Name: "batch.size", Type: conf.Int, Default: "2000", Min: 1, Max: 1000000, Group: "Batching", Doc: "Most actions in one bulk request."},
		{Name: "bulk.size.bytes", Type: conf.Long, Default: "5242880", Min: 1024, Max: 1 << 31, Group: "Batching", Doc: "Most bytes in one bulk request (a single larger document is still sent, alone)."},
		{Name: "linger.ms", Type: conf.Int, Default: "1", Min: 0, Max: 600000, Group: "Batching", Doc: "How long to wait for more records before writing a batch that is not full."},
		{Name: "max.in.flight.requests", Type: conf.Int, Default: "5", Min: 1, Max: 1000, Group: "Batching", Doc: "Bulk requests sent at the same time."},
		{Name: "max.buffered.records", Type: conf.Int, Default: "20000", Min: 1, Max: 10000000, Group: "Batching", Doc: "Most records read from Kafka and not yet written; consumption waits while this many are buffered, which bounds memory."},
		{Name: "flush.timeout.ms", Type: conf.Int, Default: "180000", Min: 1, Max: 1 << 30, Group: "Batching", Doc: "How long writing one batch may take, retries included, before the connector fails (and is restarted by the daemon)."},
		{Name: "max.retries", Type: conf.Int, Default: "5", Min: 0, Max: 1000000, Group: "Retries", Doc: "Retries of a request that failed with 429, 5xx, a timeout or a connection error; then the connector is FAILED with the reason."},
		{Name: "retry.backoff.ms", Type: conf.Int, Default: "100", Min: 0, Max: 3600000, Group: "Retries", Doc: "First wait before a retry; each retry doubles it (with jitter), up to ten seconds (or this wait, when longer)."},
		{Name: "errors.tolerance", Type: conf.String, Default: "none", Allowed: []string{"none", "all"}, Group: "Errors", Doc: "none: a record that cannot be decoded or transformed fails the connector; all: it is skipped (and sent to the dead-letter topic when configured)."},
		{Name: "errors.deadletterqueue.topic.name", Type: conf.String, Check: checkTopic, Group: "Errors", Doc: "Topic that receives the original records that were skipped, with headers saying why."},
		{Name: "errors.deadletterqueue.topic.replication.factor", Type: conf.Int, Default: "-1", Min: -1, Max: 32767, Group: "Errors", Doc: "Replication factor of the dead-letter topic when sluice creates it; -1 takes the broker's default."},
		{Name: "errors.deadletterqueue.context.headers.enable", Type: conf.Boolean, Default: "true", Group: "Errors", Doc: "Add Kafka Connect's __connect.errors.* headers (origin topic, partition, offset, reason) to dead-letter records. On by default in sluice."},
	}, kafka.SinkConverterKeys...),
}

// Config is the Elasticsearch sink's parsed configuration.
type Config struct {
	Topics      []string
	TopicsRegex *regexp.Regexp
	// Converters read the records as key.converter and value.converter say.
	Converters kafka.SinkConverters

	URLs                 []string
	Username, Password   string
	APIKey               string
	ConnectTimeout       time.Duration
	ReadTimeout          time.Duration
	TLS                  bool
	CAFile               string
	CertFile, KeyFile    string
	SkipHostVerification bool

	KeyIgnore   bool
	Upsert      bool
	OnNull      string // ignore, delete, fail
	OnMalformed string // ignore, warn, fail
	Placeholder string

	BatchSize   int
	BulkBytes   int
	Linger      time.Duration
	InFlight    int
	MaxBuffered int
	FlushTime   time.Duration

	MaxRetries   int
	RetryBackoff time.Duration

	TolerateAll     bool
	DLQTopic        string
	DLQReplication  int16
	DLQContextHeads bool
}

// ParseConfig builds a Config from a parsed configuration.
func ParseConfig(c *conf.Config) (*Config, error) {
	var problems conf.Problems
	topics, regex := c.List("topics"), c.String("topics.regex")
	switch {
	case len(topics) == 0 && regex == "":
		problems = append(problems, conf.Problem{Key: "topics", Message: "missing required configuration: set topics or topics.regex"})
	case len(topics) > 0 && regex != "":
		problems = append(problems, conf.Problem{Key: "topics.regex", Message: "topics and topics.regex are exclusive: set only one"})
	}
	if c.String("connection.api.key") != "" && c.String("connection.username") != "" {
		problems = append(problems, conf.Problem{Key: "connection.api.key", Message: "use either an API key or connection.username, not both"})
	}
	if (c.String("elastic.https.ssl.cert.file") == "") != (c.String("elastic.https.ssl.key.file") == "") {
		problems = append(problems, conf.Problem{Key: "elastic.https.ssl.key.file", Message: "a client certificate needs both elastic.https.ssl.cert.file and elastic.https.ssl.key.file"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	cfg := &Config{
		Topics: topics, URLs: c.List("connection.url"),
		Username: c.String("connection.username"), Password: c.String("connection.password"),
		APIKey:         c.String("connection.api.key"),
		ConnectTimeout: ms(c.Int("connection.timeout.ms")), ReadTimeout: ms(c.Int("read.timeout.ms")),
		TLS:    c.Enum("elastic.security.protocol") == "ssl",
		CAFile: c.String("elastic.https.ssl.ca.file"), CertFile: c.String("elastic.https.ssl.cert.file"), KeyFile: c.String("elastic.https.ssl.key.file"),
		SkipHostVerification: c.String("elastic.https.ssl.endpoint.identification.algorithm") == "",
		KeyIgnore:            c.Bool("key.ignore"), Upsert: c.Enum("write.method") == "upsert",
		OnNull: c.Enum("behavior.on.null.values"), OnMalformed: c.Enum("behavior.on.malformed.documents"),
		Placeholder: c.String("unavailable.value.placeholder"),
		BatchSize:   int(c.Int("batch.size")), BulkBytes: int(c.Int("bulk.size.bytes")), Linger: ms(c.Int("linger.ms")),
		InFlight: int(c.Int("max.in.flight.requests")), MaxBuffered: int(c.Int("max.buffered.records")),
		FlushTime:  ms(c.Int("flush.timeout.ms")),
		MaxRetries: int(c.Int("max.retries")), RetryBackoff: ms(c.Int("retry.backoff.ms")),
		TolerateAll: c.Enum("errors.tolerance") == "all", DLQTopic: c.String("errors.deadletterqueue.topic.name"),
		DLQReplication:  int16(c.Int("errors.deadletterqueue.topic.replication.factor")),
		DLQContextHeads: c.Bool("errors.deadletterqueue.context.headers.enable"),
	}
	if regex != "" {
		cfg.TopicsRegex = regexp.MustCompile(regex) // checked by Spec
	}
	cfg.Converters = kafka.SinkConvertersFrom(c)
	return cfg, nil
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func checkURLs(v string) error {
	urls := conf.SplitList(v)
	if len(urls) == 0 {
		return errors.New("missing required configuration")
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("invalid URL %q: want http://host:port or https://host:port", s)
		}
		if u.User != nil {
			return fmt.Errorf("invalid URL %q: put credentials in connection.username and connection.password, not in the URL", u.Redacted())
		}
	}
	return nil
}

func checkRegex(v string) error {
	if _, err := regexp.Compile(v); err != nil {
		return fmt.Errorf("invalid regular expression %q: %v", v, err)
	}
	return nil
}

var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func checkTopic(v string) error {
	if v = strings.TrimSpace(v); v != "" && !topicRE.MatchString(v) {
		return fmt.Errorf("invalid topic name %q: use 1 to 249 letters, digits, '.', '_' and '-'", v)
	}
	return nil
}

func noJavaStore(use string) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		return fmt.Errorf("key and trust stores in Java formats (JKS, PKCS12) are not supported: convert %q to PEM and use %s", v, use)
	}
}
