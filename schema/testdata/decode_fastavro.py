#!/usr/bin/env python3
"""Decode one Avro body with fastavro and print it as JSON.

Usage: decode_fastavro.py WRITER_SCHEMA.avsc BODY.bin

An independent reader for sluice's encoder: the body is read with the writer
schema alone (no reader schema), logical types applied by fastavro. Values
JSON cannot carry exactly are tagged: {"$bytes": hex}, {"$decimal": plain
notation}, {"$float": repr}, {"$iso": isoformat} for dates and times.
"""
import datetime
import decimal
import io
import json
import sys

import fastavro


def tag(v):
    if isinstance(v, dict):
        return {k: tag(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tag(x) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return {"$float": repr(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": bytes(v).hex()}
    if isinstance(v, decimal.Decimal):
        return {"$decimal": format(v, "f")}
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return {"$iso": v.isoformat()}
    raise TypeError("cannot tag %r" % type(v))


def main():
    schema_path, body_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as f:
        schema = fastavro.parse_schema(json.load(f))
    with open(body_path, "rb") as f:
        body = f.read()
    buf = io.BytesIO(body)
    record = fastavro.schemaless_reader(buf, schema, None)
    if buf.tell() != len(body):
        sys.exit("%d bytes left after the record" % (len(body) - buf.tell()))
    json.dump(tag(record), sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
