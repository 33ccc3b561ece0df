import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

/**
 * Runs records through Kafka Connect's and Debezium's transforms, one case a
 * line: it reads {"config": {...}, "record": {...}} on stdin, where config
 * holds a connector's transforms.* and predicates.* keys, and writes
 * {"record": {...}} (null when a transform dropped it) or
 * {"error": "class: message", "phase": ...} on stdout, where phase says
 * what failed: "configure" (a transform or predicate), "read" (the input
 * record), "apply" (a transform) or "write" (the record out, which
 * JsonConverter refused).
 *
 * A record is {"topic", "key", "value", "headers": [{"key", "value"}],
 * "timestamp"}, where keys, values and header values are in JsonConverter's
 * form with schemas, {"schema": ..., "payload": ...}, or null. Records are
 * SourceRecords without a partition, as a source connector hands them to
 * its transforms. The transforms are configured and applied as Kafka
 * Connect's ConnectorConfig and TransformationChain do it: each gets the
 * keys under its prefix but predicate and negate, and applies when it has
 * no predicate or when negate differs from the predicate's answer.
 */
public final class SmtRunner {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonConverter KEYS = converter(true);
    private static final JsonConverter VALUES = converter(false);

    private record Stage(Transformation<SourceRecord> transform, Predicate<SourceRecord> predicate, boolean negate) {
        boolean appliesTo(SourceRecord r) {
            return predicate == null || negate ^ predicate.test(r);
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        // Whatever the transforms log goes to stderr, never among the answers.
        System.setOut(System.err);
        for (String line; (line = in.readLine()) != null; ) {
            out.println(JSON.writeValueAsString(run(JSON.readTree(line))));
            out.flush();
        }
    }

    private static JsonNode run(JsonNode c) {
        ObjectNode answer = JSON.createObjectNode();
        Map<String, String> config = new HashMap<>();
        c.get("config").properties().forEach(e -> config.put(e.getKey(), e.getValue().asText()));
        List<Stage> chain;
        try {
            chain = chain(config);
        } catch (Exception e) {
            return error(answer, "configure", e);
        }
        String phase = "read";
        try {
            SourceRecord r = record(c.get("record"));
            phase = "apply";
            for (Stage s : chain) {
                if (s.appliesTo(r)) {
                    r = s.transform().apply(r);
                    if (r == null) {
                        break;
                    }
                }
            }
            phase = "write";
            return answer.set("record", r == null ? NullNode.getInstance() : json(r));
        } catch (Exception e) {
            return error(answer, phase, e);
        } finally {
            for (Stage s : chain) {
                s.transform().close();
            }
        }
    }

    private static ObjectNode error(ObjectNode answer, String phase, Exception e) {
        return answer.put("error", e.getClass().getName() + ": " + e.getMessage()).put("phase", phase);
    }

    private static List<Stage> chain(Map<String, String> config) throws Exception {
        Map<String, Predicate<SourceRecord>> predicates = new HashMap<>();
        for (String alias : list(config.get("predicates"))) {
            Map<String, Object> own = withPrefix(config, "predicates." + alias + ".");
            Predicate<SourceRecord> p = newInstance(own.get("type"));
            p.configure(own);
            predicates.put(alias, p);
        }
        List<Stage> chain = new ArrayList<>();
        for (String alias : list(config.get("transforms"))) {
            Map<String, Object> own = withPrefix(config, "transforms." + alias + ".");
            Object predicate = own.remove("predicate");
            Object negate = own.remove("negate");
            Transformation<SourceRecord> t = newInstance(own.get("type"));
            t.configure(own);
            chain.add(new Stage(t, predicate == null ? null : predicates.get(predicate), negate != null && Boolean.parseBoolean(negate.toString().trim())));
        }
        return chain;
    }

    @SuppressWarnings("unchecked")
    private static <T> T newInstance(Object className) throws Exception {
        return (T) Class.forName(String.valueOf(className).trim()).getDeclaredConstructor().newInstance();
    }

    private static List<String> list(String v) {
        List<String> out = new ArrayList<>();
        if (v != null) {
            for (String s : v.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
        }
        return out;
    }

    private static Map<String, Object> withPrefix(Map<String, String> config, String prefix) {
        Map<String, Object> own = new HashMap<>();
        config.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                own.put(k.substring(prefix.length()), v);
            }
        });
        return own;
    }

    private static SourceRecord record(JsonNode r) throws Exception {
        String topic = r.get("topic").asText();
        SchemaAndValue key = KEYS.toConnectData(topic, bytes(r.get("key")));
        SchemaAndValue value = VALUES.toConnectData(topic, bytes(r.get("value")));
        ConnectHeaders headers = new ConnectHeaders();
        for (JsonNode h : r.path("headers")) {
            String name = h.get("key").asText();
            SchemaAndValue hv = VALUES.toConnectHeader(topic, name, bytes(h.get("value")));
            headers.add(name, hv.value(), hv.schema());
        }
        JsonNode ts = r.get("timestamp");
        Long timestamp = ts == null || ts.isNull() ? null : ts.asLong();
        return new SourceRecord(null, null, topic, null, key.schema(), key.value(), value.schema(), value.value(), timestamp, headers);
    }

    private static JsonNode json(SourceRecord r) throws Exception {
        ObjectNode o = JSON.createObjectNode();
        o.put("topic", r.topic());
        o.set("key", tree(KEYS.fromConnectData(r.topic(), r.keySchema(), r.key())));
        o.set("value", tree(VALUES.fromConnectData(r.topic(), r.valueSchema(), r.value())));
        ArrayNode headers = o.putArray("headers");
        for (Header h : r.headers()) {
            headers.addObject().put("key", h.key()).set("value", tree(VALUES.fromConnectHeader(r.topic(), h.key(), h.schema(), h.value())));
        }
        if (r.timestamp() != null) {
            o.put("timestamp", r.timestamp());
        }
        return o;
    }

    private static byte[] bytes(JsonNode n) throws Exception {
        return n == null || n.isNull() ? null : JSON.writeValueAsBytes(n);
    }

    private static JsonNode tree(byte[] b) throws Exception {
        return b == null ? NullNode.getInstance() : JSON.readTree(b);
    }

    /** A JsonConverter with schemas that keeps nulls null, in both directions. */
    private static JsonConverter converter(boolean isKey) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", "true", "replace.null.with.default", "false"), isKey);
        return c;
    }
}
