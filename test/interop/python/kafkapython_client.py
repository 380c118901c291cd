#!/usr/bin/python3
"""kafka-python as a user would drive it.

    kafkapython_client.py BOOTSTRAP TOPIC produce [--compression gzip] < records
    kafkapython_client.py BOOTSTRAP TOPIC consume
    kafkapython_client.py BOOTSTRAP TOPIC create --partitions N [--config k=v ...]
    kafkapython_client.py BOOTSTRAP TOPIC describe-configs

The producer uses acks='all' and reports the offset each send's future gives.
The consumer has no group (group_id=None): it assigns every partition, seeks
to the beginning and stops once it has read up to the end offsets it saw at
start. See common.py for the JSON-lines formats.
"""

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

import common

TIMEOUT = 60.0


def produce(args):
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks="all",
        compression_type=args.compression,
        linger_ms=5,
        max_request_size=1 << 20,
        request_timeout_ms=int(TIMEOUT * 1000),
    )
    try:
        futures = []
        for r in common.read_records():
            futures.append(
                producer.send(
                    args.topic,
                    key=r["key"],
                    value=r["value"],
                    headers=r["headers"],
                    partition=r["partition"] if r["partition"] >= 0 else None,
                    timestamp_ms=r["timestamp"] or None,
                )
            )
        producer.flush(timeout=TIMEOUT)
        for i, f in enumerate(futures):
            md = f.get(timeout=TIMEOUT)
            common.emit("ack", index=i, partition=md.partition, offset=md.offset)
    finally:
        producer.close(timeout=TIMEOUT)


def consume(args):
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
        request_timeout_ms=int(TIMEOUT * 1000) + 5000,
    )
    try:
        parts = consumer.partitions_for_topic(args.topic)
        deadline = time.monotonic() + TIMEOUT
        while not parts:
            if time.monotonic() > deadline:
                common.fail(f"topic {args.topic} not in metadata")
            time.sleep(0.1)
            parts = consumer.partitions_for_topic(args.topic)
        tps = [TopicPartition(args.topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        starts = consumer.beginning_offsets(tps)
        ends = consumer.end_offsets(tps)
        pending = {tp.partition: ends[tp] for tp in tps if ends[tp] > starts[tp]}

        while pending:
            if time.monotonic() > deadline:
                common.fail(f"timed out; still waiting for partition: end offset {pending}")
            # Iteration stops after consumer_timeout_ms without records.
            for msg in consumer:
                common.emit_record(msg.partition, msg.offset, msg.key, msg.value, msg.headers, msg.timestamp)
                if msg.partition in pending and msg.offset + 1 >= pending[msg.partition]:
                    del pending[msg.partition]
                if not pending or time.monotonic() > deadline:
                    break
    finally:
        consumer.close()


def admin_client(args):
    return KafkaAdminClient(bootstrap_servers=args.bootstrap, request_timeout_ms=int(TIMEOUT * 1000))


def create(args):
    admin = admin_client(args)
    try:
        topic = NewTopic(
            args.topic,
            num_partitions=args.partitions,
            replication_factor=1,
            topic_configs=common.parse_config(args.config),
        )
        resp = admin.create_topics([topic], timeout_ms=int(TIMEOUT * 1000))
        for name, code, *rest in resp.topic_errors:
            if code != 0:
                common.fail(f"create_topics {name}: error code {code} {rest}")
        common.emit("topic", name=args.topic, partitions=args.partitions)
    finally:
        admin.close()


def describe_configs(args):
    admin = admin_client(args)
    try:
        responses = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, args.topic)])
        for resp in responses:
            for code, message, _, name, entries in resp.resources:
                if code != 0:
                    common.fail(f"describe_configs {name}: error code {code} {message}")
                for entry in entries:
                    # (name, value, read_only, is_default or source, is_sensitive[, synonyms])
                    common.emit(
                        "config",
                        name=entry[0],
                        config_value=entry[1],
                        read_only=bool(entry[2]),
                        version=resp.API_VERSION,
                    )
    finally:
        admin.close()


def run():
    p = common.parser("Drive kafka-python against a Kafka broker.")
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("produce")
    pp.add_argument("--compression", default=None, choices=["gzip"])
    sub.add_parser("consume")
    tp = sub.add_parser("create")
    tp.add_argument("--partitions", type=int, required=True)
    tp.add_argument("--config", action="append", help="topic config key=value")
    sub.add_parser("describe-configs")
    args = p.parse_args()
    {"produce": produce, "consume": consume, "create": create, "describe-configs": describe_configs}[args.command](args)


if __name__ == "__main__":
    common.main(run)
