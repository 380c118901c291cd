#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) as a user would drive it.

    confluent_client.py BOOTSTRAP TOPIC produce [--acks all] [--idempotent] [--compression CODEC] < records
    confluent_client.py BOOTSTRAP TOPIC consume [--start beginning|OFFSET]
    confluent_client.py BOOTSTRAP TOPIC create --partitions N [--config k=v ...]
    confluent_client.py BOOTSTRAP TOPIC describe-configs
    confluent_client.py BOOTSTRAP BROKER_ID alter-broker-config --config k=v ...

The consumer has a group.id (the client requires one) but assigns every
partition itself, starting at the beginning or at OFFSET, and commits
nothing. It stops once it has read up to the high watermarks it saw at start.
See common.py for the JSON-lines formats.
"""

import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

import common

TIMEOUT = 60.0


def produce(args):
    conf = {
        "bootstrap.servers": args.bootstrap,
        "acks": args.acks,
        "enable.idempotence": args.idempotent,
        "compression.type": args.compression,
        "linger.ms": 5,
        "message.timeout.ms": int(TIMEOUT * 1000),
    }
    producer = Producer(conf)
    errors = []

    def delivered(index):
        def callback(err, msg):
            if err is not None:
                errors.append(f"record {index}: {err}")
                return
            common.emit("ack", index=index, partition=msg.partition(), offset=msg.offset())

        return callback

    for i, r in enumerate(common.read_records()):
        kwargs = {
            "topic": args.topic,
            "key": r["key"],
            "value": r["value"],
            "on_delivery": delivered(i),
        }
        if r["headers"]:
            kwargs["headers"] = r["headers"]
        if r["partition"] >= 0:
            kwargs["partition"] = r["partition"]
        if r["timestamp"]:
            kwargs["timestamp"] = r["timestamp"]
        while True:
            try:
                producer.produce(**kwargs)
                break
            except BufferError:
                producer.poll(0.1)  # the local queue is full: serve callbacks
        producer.poll(0)

    left = producer.flush(TIMEOUT)
    if left:
        common.fail(f"{left} records still undelivered after {TIMEOUT}s")
    if errors:
        common.fail("delivery failed: " + "; ".join(errors[:10]))


def consume(args):
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": "strait-interop-assign-only",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",
        }
    )
    try:
        md = consumer.list_topics(args.topic, timeout=TIMEOUT)
        tmd = md.topics.get(args.topic)
        if tmd is None or tmd.error is not None:
            common.fail(f"topic {args.topic}: {tmd.error if tmd else 'not in metadata'}")
        partitions = sorted(tmd.partitions)

        start = OFFSET_BEGINNING if args.start == "beginning" else int(args.start)
        pending = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=TIMEOUT)
            first = low if start == OFFSET_BEGINNING else start
            if high > first:
                pending[p] = high
        consumer.assign([TopicPartition(args.topic, p, start) for p in partitions])

        deadline = time.monotonic() + TIMEOUT
        while pending:
            if time.monotonic() > deadline:
                common.fail(f"timed out; still waiting for partition: high watermark {pending}")
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                common.fail(f"consume error: {msg.error()}")
            _, ts = msg.timestamp()
            common.emit_record(msg.partition(), msg.offset(), msg.key(), msg.value(), msg.headers(), ts)
            if msg.partition() in pending and msg.offset() + 1 >= pending[msg.partition()]:
                del pending[msg.partition()]
    finally:
        consumer.close()


def create(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    topic = NewTopic(
        args.topic,
        num_partitions=args.partitions,
        replication_factor=1,
        config=common.parse_config(args.config),
    )
    futures = admin.create_topics([topic], operation_timeout=TIMEOUT, request_timeout=TIMEOUT)
    futures[args.topic].result(timeout=TIMEOUT)
    # The topic may take a moment to appear in metadata with all partitions.
    deadline = time.monotonic() + TIMEOUT
    while True:
        tmd = admin.list_topics(args.topic, timeout=TIMEOUT).topics.get(args.topic)
        if tmd is not None and tmd.error is None and len(tmd.partitions) == args.partitions:
            break
        if time.monotonic() > deadline:
            common.fail(f"topic {args.topic} not in metadata with {args.partitions} partitions: {tmd and tmd.error}")
        time.sleep(0.1)
    common.emit("topic", name=args.topic, partitions=len(tmd.partitions))


def describe_configs(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, args.topic)
    futures = admin.describe_configs([resource], request_timeout=TIMEOUT)
    for _, future in futures.items():
        for name, entry in sorted(future.result(timeout=TIMEOUT).items()):
            source = entry.source if isinstance(entry.source, ConfigSource) else ConfigSource(entry.source)
            common.emit(
                "config",
                name=name,
                config_value=entry.value,
                source=source.name,
                is_default=entry.is_default,
                read_only=entry.is_read_only,
                sensitive=entry.is_sensitive,
            )


def alter_broker_config(args):
    """AlterConfigs on the BROKER resource named by the TOPIC argument; the
    outcome (altered, or the broker's error) is the output."""
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    resource = ConfigResource(ConfigResource.Type.BROKER, args.topic, set_config=common.parse_config(args.config))
    futures = admin.alter_configs([resource], request_timeout=TIMEOUT)
    for _, future in futures.items():
        try:
            future.result(timeout=TIMEOUT)
            common.emit("altered")
        except KafkaException as e:
            err = e.args[0]
            common.emit("alter_error", code=err.name(), message=err.str())


def run():
    p = common.parser("Drive confluent-kafka-python against a Kafka broker.")
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("produce")
    pp.add_argument("--acks", default="all")
    pp.add_argument("--idempotent", action="store_true")
    pp.add_argument("--compression", default="none", choices=["none", "gzip", "snappy", "lz4", "zstd"])
    cp = sub.add_parser("consume")
    cp.add_argument("--start", default="beginning", help="'beginning' or an offset for every partition")
    tp = sub.add_parser("create")
    tp.add_argument("--partitions", type=int, required=True)
    tp.add_argument("--config", action="append", help="topic config key=value")
    sub.add_parser("describe-configs")
    ap = sub.add_parser("alter-broker-config")
    ap.add_argument("--config", action="append", help="broker config key=value")
    args = p.parse_args()
    {
        "produce": produce,
        "consume": consume,
        "create": create,
        "describe-configs": describe_configs,
        "alter-broker-config": alter_broker_config,
    }[args.command](args)


if __name__ == "__main__":
    common.main(run)
