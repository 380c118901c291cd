"""Shared by Strait's Python interop scripts: the JSON-lines record format
and uniform failure reporting.

A record is a JSON object:

    {"partition": 0, "offset": 5, "key": "<base64>" | null,
     "value": "<base64>" | null, "headers": [{"key": "k", "value": "<base64>" | null}],
     "timestamp": 1700000000000}

Producers read records on stdin (partition -1 = client's choice, timestamp
0 = client's clock) and print {"event": "ack", "index": i, "partition": p,
"offset": o} per acknowledged record. Consumers print {"event": "record", ...}
per record read.
"""

import argparse
import base64
import json
import os
import sys
import traceback

PROG = os.path.basename(sys.argv[0])


def fail(msg):
    """Report msg on stderr and exit non-zero."""
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def b64(data):
    return None if data is None else base64.b64encode(data).decode("ascii")


def unb64(text):
    return None if text is None else base64.b64decode(text)


def emit(event, **fields):
    """Print one JSON event line on stdout."""
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def emit_record(partition, offset, key, value, headers, timestamp):
    emit(
        "record",
        partition=partition,
        offset=offset,
        key=b64(key),
        value=b64(value),
        headers=[{"key": k, "value": b64(v)} for k, v in (headers or [])],
        timestamp=timestamp,
    )


def read_records():
    """The records to produce, from JSON lines on stdin."""
    records = []
    for n, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
            records.append(
                {
                    "partition": d.get("partition", -1),
                    "key": unb64(d.get("key")),
                    "value": unb64(d.get("value")),
                    "headers": [(h["key"], unb64(h.get("value"))) for h in d.get("headers") or []],
                    "timestamp": d.get("timestamp", 0),
                }
            )
        except (ValueError, KeyError, TypeError) as e:
            fail(f"stdin line {n}: bad record: {e}")
    return records


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("bootstrap", help="bootstrap address, host:port")
    p.add_argument("topic")
    return p


def parse_config(pairs):
    """['k=v', ...] -> {'k': 'v', ...}"""
    out = {}
    for pair in pairs or []:
        k, sep, v = pair.partition("=")
        if not sep or not k:
            fail(f"--config {pair!r}: want key=value")
        out[k] = v
    return out


def main(fn):
    """Run fn, turning any exception into a message and a non-zero exit."""
    try:
        fn()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - everything must surface
        traceback.print_exc(file=sys.stderr)
        fail(f"{type(e).__name__}: {e}")
