#!/usr/bin/python3
"""A confluent-kafka-python (librdkafka) consumer-group member, as a user
runs one, steered through stdin.

    confluent_group.py BOOTSTRAP TOPIC GROUP [--client-id ID]

The member subscribes to TOPIC in GROUP (range assignor, no auto commit,
auto.offset.reset=earliest) and polls until told to stop. It prints:

    {"event": "assigned", "partitions": [0, 1]}   its whole assignment, after every rebalance
    {"event": "record", ...}                        every record read (see common.py)
    {"event": "committed", "offsets": [{"partition": p, "offset": o}]}
    {"event": "closed"}                             after it left the group

and reads one command a line on stdin:

    commit   commit the offsets of what it has read (synchronously)
    stop     leave the group (close) and exit
"""

import argparse
import queue
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError

import common

TIMEOUT = 60.0


def read_commands(q):
    for line in sys.stdin:
        q.put(line.strip())
    q.put("stop")  # stdin closed: the test is gone


def run():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("group")
    p.add_argument("--client-id", default="confluent-group")
    args = p.parse_args()

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "client.id": args.client_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "range",
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 500,
        }
    )
    assigned = set()

    def on_assign(c, partitions):
        assigned.clear()
        assigned.update(tp.partition for tp in partitions)
        common.emit("assigned", partitions=sorted(assigned))

    def on_revoke(c, partitions):
        assigned.difference_update(tp.partition for tp in partitions)

    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    commands = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    while True:
        try:
            cmd = commands.get_nowait()
        except queue.Empty:
            cmd = None
        if cmd == "stop":
            consumer.close()
            common.emit("closed")
            return
        if cmd == "commit":
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    committed = consumer.commit(asynchronous=False)
                    break
                except Exception as e:  # noqa: BLE001 - retried while a rebalance settles
                    code = e.args[0].code() if e.args and hasattr(e.args[0], "code") else None
                    if code == KafkaError._NO_OFFSET:
                        committed = []
                        break
                    if time.monotonic() > deadline:
                        raise
                    consumer.poll(0.1)
            common.emit(
                "committed",
                offsets=[{"partition": tp.partition, "offset": tp.offset} for tp in committed or [] if tp.offset >= 0],
            )
        elif cmd:
            common.fail(f"unknown command {cmd!r}")
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            common.fail(f"consume error: {msg.error()}")
        _, ts = msg.timestamp()
        common.emit_record(msg.partition(), msg.offset(), msg.key(), msg.value(), msg.headers(), ts)


if __name__ == "__main__":
    common.main(run)
