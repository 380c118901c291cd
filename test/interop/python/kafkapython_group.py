#!/usr/bin/python3
"""A kafka-python consumer-group member, as a user runs one.

    kafkapython_group.py BOOTSTRAP TOPIC GROUP --count N

It subscribes to TOPIC in GROUP (no auto commit, auto_offset_reset=earliest),
reads N records, commits what it read, leaves the group (close) and exits.
It prints one "record" event per record read (see common.py) and then
{"event": "committed", "offsets": [{"partition": p, "offset": o}, ...]} with
the offsets the broker returns for its assignment after the commit.
"""

import argparse
import time

from kafka import KafkaConsumer

import common

TIMEOUT = 60.0


def run():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("group")
    p.add_argument("--count", type=int, required=True)
    args = p.parse_args()

    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        client_id="kafka-python-group",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
    )
    try:
        read = 0
        deadline = time.monotonic() + TIMEOUT
        while read < args.count:
            if time.monotonic() > deadline:
                common.fail(f"read {read} of {args.count} records in {TIMEOUT}s")
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    common.emit_record(r.partition, r.offset, r.key, r.value, r.headers, r.timestamp)
                    read += 1
        consumer.commit()
        offsets = []
        for tp in sorted(consumer.assignment(), key=lambda tp: tp.partition):
            committed = consumer.committed(tp)
            if committed is not None:
                offsets.append({"partition": tp.partition, "offset": committed})
        common.emit("committed", offsets=offsets)
    finally:
        consumer.close()


if __name__ == "__main__":
    common.main(run)
