package schema

import "github.com/sluice-cdc/sluice/schema/event"

// TransactionSchemas are the key and value schemas of Debezium's
// transaction topic: io.debezium.connector.common.TransactionMetadataKey
// {id} and io.debezium.connector.common.TransactionMetadataValue {status,
// id, event_count, data_collections [{data_collection, event_count}],
// ts_ms}, as Debezium 3's SchemaFactory builds them.
func TransactionSchemas() (key, value *event.Schema) {
	str := &event.Schema{Type: event.String}
	long := &event.Schema{Type: event.Int64}
	optionalLong := &event.Schema{Type: event.Int64, Optional: true}
	collection := &event.Schema{Type: event.Struct, Name: "event.collection", Version: 1, Optional: true, Fields: []event.Field{
		{Name: "data_collection", Schema: str},
		{Name: "event_count", Schema: long},
	}}
	key = &event.Schema{Type: event.Struct, Name: "io.debezium.connector.common.TransactionMetadataKey", Version: 1, Fields: []event.Field{
		{Name: "id", Schema: str},
	}}
	value = &event.Schema{Type: event.Struct, Name: "io.debezium.connector.common.TransactionMetadataValue", Version: 1, Fields: []event.Field{
		{Name: "status", Schema: str},
		{Name: "id", Schema: str},
		{Name: "event_count", Schema: optionalLong},
		{Name: "data_collections", Schema: &event.Schema{Type: event.Array, Optional: true, Elem: collection}},
		{Name: "ts_ms", Schema: long},
	}}
	return key, value
}

// HeartbeatSchemas are the key and value schemas of Debezium's heartbeat
// topic: io.debezium.connector.common.ServerNameKey {serverName} and
// io.debezium.connector.common.Heartbeat {ts_ms}.
func HeartbeatSchemas() (key, value *event.Schema) {
	key = &event.Schema{Type: event.Struct, Name: "io.debezium.connector.common.ServerNameKey", Version: 1, Fields: []event.Field{
		{Name: "serverName", Schema: &event.Schema{Type: event.String}},
	}}
	value = &event.Schema{Type: event.Struct, Name: "io.debezium.connector.common.Heartbeat", Version: 1, Fields: []event.Field{
		{Name: "ts_ms", Schema: &event.Schema{Type: event.Int64}},
	}}
	return key, value
}
