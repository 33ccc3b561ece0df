package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// A Converter turns the keys or the values of records into the bytes Kafka
// stores, as a Kafka Connect converter does: AvroConverter (Confluent's
// wire format, schemas in a registry; the default), JSONConverter (Kafka
// Connect's JsonConverter) or StringConverter (keys only).
type Converter interface {
	// Encoder returns the encoder of the values of s written to topic, as
	// record keys when isKey. The Writer calls it once per schema, topic
	// and role, from its one goroutine, and keeps the encoder.
	Encoder(ctx context.Context, topic string, isKey bool, s *event.Schema) (Encoder, error)
}

// Encoder appends the encoding of one value of its schema to dst. It is
// called from one goroutine; values are never nil (a null key or value is
// no bytes at all, as with Kafka Connect's converters).
type Encoder interface {
	Append(dst []byte, v any) ([]byte, error)
}

// The converter classes, with Kafka Connect's names.
const (
	AvroConverterClass   = "io.confluent.connect.avro.AvroConverter"
	JSONConverterClass   = "org.apache.kafka.connect.json.JsonConverter"
	StringConverterClass = "org.apache.kafka.connect.storage.StringConverter"
)

// The roles of converters, as their keys start.
const (
	KeyConverterKey   = "key.converter"
	ValueConverterKey = "value.converter"
)

// converterClasses maps the accepted names of each class (its Java class
// name and a short name, any letter case) to the class.
var converterClasses = map[string]string{
	strings.ToLower(AvroConverterClass):   AvroConverterClass,
	"avro":                                AvroConverterClass,
	strings.ToLower(JSONConverterClass):   JSONConverterClass,
	"json":                                JSONConverterClass,
	strings.ToLower(StringConverterClass): StringConverterClass,
	"string":                              StringConverterClass,
}

func converterClass(role, v string) (string, error) {
	class, ok := converterClasses[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return "", fmt.Errorf("unsupported converter %q: use %s (the default), %s or, for keys, %s", v, AvroConverterClass, JSONConverterClass, StringConverterClass)
	}
	if class == StringConverterClass && role == ValueConverterKey {
		return "", fmt.Errorf("%s writes keys only in sluice: use %s with schemas.enable=false for values without a schema", StringConverterClass, JSONConverterClass)
	}
	return class, nil
}

// ConverterKeys are the key.converter and value.converter keys, with their
// prefixed settings, that sources accept and that the daemon accepts as
// the defaults of every source (Kafka Connect's worker settings).
var ConverterKeys = append(converterKeys(KeyConverterKey), converterKeys(ValueConverterKey)...)

func converterKeys(role string) []conf.Key {
	checkClass := func(v string) error { _, err := converterClass(role, v); return err }
	checkStrategy := func(v string) error { _, err := registry.ParseSubjectNameStrategy(v); return err }
	what := strings.TrimSuffix(role, ".converter")
	classes := AvroConverterClass + " (Confluent's wire format, schemas in the registry; short name avro) or " +
		JSONConverterClass + " (Kafka Connect's JSON, with or without the schema; json)"
	if role == KeyConverterKey {
		classes = AvroConverterClass + " (Confluent's wire format, schemas in the registry; short name avro), " +
			JSONConverterClass + " (Kafka Connect's JSON, with or without the schema; json) or " +
			StringConverterClass + " (the key's text; string)"
	}
	return []conf.Key{
		{Name: role, Type: conf.Class, Default: AvroConverterClass, Check: checkClass, Group: "Converters", Doc: "How record " + what + "s are written: " + classes + ". The daemon's " + role + " settings apply to every key the connector does not set."},
		{Name: role + ".schemas.enable", Type: conf.Boolean, Default: "true", Group: "Converters", Doc: "JsonConverter: wrap each " + what + " as {\"schema\":…,\"payload\":…}; false writes the payload alone."},
		{Name: role + ".decimal.format", Type: conf.String, Default: "BASE64", Allowed: []string{"BASE64", "NUMERIC"}, Group: "Converters", Doc: "JsonConverter: Decimal values as base64 of their unscaled bytes, or as JSON numbers."},
		{Name: role + ".replace.null.with.default", Type: conf.Boolean, Default: "true", Group: "Converters", Doc: "JsonConverter: write a null field that has a default as its default."},
		{Name: role + ".schemas.cache.size", Type: conf.Int, Default: "1000", Min: 0, Max: 1 << 30, Group: "Converters", Doc: "Accepted for Kafka Connect compatibility; sluice derives each schema once per table version and keeps it."},
		{Name: role + ".schema.registry.url", Type: conf.String, Group: "Converters", Doc: "AvroConverter: the Schema Registry; the daemon's schema.registry.url when empty. With several comma-separated URLs the first is used."},
		{Name: role + ".basic.auth.credentials.source", Type: conf.String, Default: "USER_INFO", Allowed: []string{"USER_INFO", "URL"}, Group: "Converters", Doc: "AvroConverter: where registry credentials come from: basic.auth.user.info, or the user info of schema.registry.url."},
		{Name: role + ".basic.auth.user.info", Type: conf.Password, Check: checkUserInfo, Group: "Converters", Doc: "AvroConverter: registry credentials as user:password."},
		{Name: role + ".schema.registry.basic.auth.user.info", Type: conf.Password, Check: checkUserInfo, Group: "Converters", Doc: "AvroConverter: the same as basic.auth.user.info (Confluent's other name for it)."},
		{Name: role + ".auto.register.schemas", Type: conf.Boolean, Default: "true", Group: "Converters", Doc: "AvroConverter: register schemas; false only looks them up."},
		{Name: role + ".use.latest.version", Type: conf.Boolean, Default: "false", Group: "Converters", Doc: "AvroConverter: with auto.register.schemas=false, write with the subject's latest schema."},
		{Name: role + ".key.subject.name.strategy", Type: conf.String, Default: string(registry.TopicNameStrategy), Check: checkStrategy, Group: "Converters", Doc: "AvroConverter: the subject of key schemas (TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy); used by the key converter."},
		{Name: role + ".value.subject.name.strategy", Type: conf.String, Default: string(registry.TopicNameStrategy), Check: checkStrategy, Group: "Converters", Doc: "AvroConverter: the subject of value schemas; used by the value converter."},
	}
}

func checkUserInfo(v string) error {
	if v != "" && !strings.Contains(v, ":") {
		return fmt.Errorf("want user:password")
	}
	return nil
}

// ConverterConfig is one converter's settings.
type ConverterConfig struct {
	Class string // one of the *ConverterClass constants
	// JsonConverter.
	SchemasEnable bool
	JSON          schema.ConnectJSON
	// AvroConverter: options for the registry client, over the daemon's;
	// URL is empty for the daemon's registry.
	RegistryURL     string
	RegistryOptions []registry.Option
}

// ConverterConfigFrom reads the converter of role (KeyConverterKey or
// ValueConverterKey) from a connector's configuration (in the daemon, with
// the daemon's own converter settings for the keys it does not set:
// conf.Spec.Inherit), each key at its default when not set.
func ConverterConfigFrom(cfg *conf.Config, role string) ConverterConfig {
	str := func(suffix string) string { return cfg.String(role + suffix) }
	class, _ := converterClass(role, str(""))
	cc := ConverterConfig{
		Class:         class,
		SchemasEnable: cfg.Bool(role + ".schemas.enable"),
		JSON: schema.ConnectJSON{
			DecimalNumeric: strings.EqualFold(str(".decimal.format"), "NUMERIC"),
			KeepNulls:      !cfg.Bool(role + ".replace.null.with.default"),
		},
	}
	if class != AvroConverterClass {
		return cc
	}
	if url := str(".schema.registry.url"); url != "" {
		cc.RegistryURL, _, _ = strings.Cut(url, ",")
	}
	info := str(".basic.auth.user.info")
	if info == "" {
		info = str(".schema.registry.basic.auth.user.info")
	}
	if user, pass, ok := strings.Cut(info, ":"); ok && !strings.EqualFold(str(".basic.auth.credentials.source"), "URL") {
		cc.RegistryOptions = append(cc.RegistryOptions, registry.WithBasicAuth(user, pass))
	}
	if cfg.Given(role + ".auto.register.schemas") {
		cc.RegistryOptions = append(cc.RegistryOptions, registry.WithAutoRegister(cfg.Bool(role+".auto.register.schemas")))
	}
	if cfg.Given(role + ".use.latest.version") {
		cc.RegistryOptions = append(cc.RegistryOptions, registry.WithUseLatestVersion(cfg.Bool(role+".use.latest.version")))
	}
	strategyKey := ".value.subject.name.strategy"
	if role == KeyConverterKey {
		strategyKey = ".key.subject.name.strategy"
	}
	if cfg.Given(role + strategyKey) {
		s, _ := registry.ParseSubjectNameStrategy(str(strategyKey))
		cc.RegistryOptions = append(cc.RegistryOptions, registry.WithSubjectNameStrategy(s))
	}
	return cc
}

// NewConverter builds the converter cc describes. reg is the daemon's
// registry, used by an AvroConverter unless cc names registry settings of
// its own; logger is where an AvroConverter notes its waits for the
// registry.
func NewConverter(cc ConverterConfig, reg SchemaRegistrar, logger *slog.Logger) (Converter, error) {
	switch cc.Class {
	case JSONConverterClass:
		return NewJSONConverter(cc.SchemasEnable, cc.JSON), nil
	case StringConverterClass:
		return StringConverter{}, nil
	}
	if cc.RegistryURL != "" {
		c, err := registry.New(cc.RegistryURL, cc.RegistryOptions...)
		if err != nil {
			return nil, fmt.Errorf("schema registry of the Avro converter: %w", err)
		}
		reg = c
	} else if len(cc.RegistryOptions) > 0 {
		base, ok := reg.(*registry.Client)
		if !ok {
			return nil, fmt.Errorf("the Avro converter's registry settings need schema.registry.url")
		}
		c, err := base.With(cc.RegistryOptions...)
		if err != nil {
			return nil, fmt.Errorf("schema registry of the Avro converter: %w", err)
		}
		reg = c
	}
	return NewAvroConverter(reg, logger), nil
}
