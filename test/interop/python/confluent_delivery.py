#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) producing, reporting every delivery
outcome rather than failing on the first error: for topics that refuse
writes, such as mirror topics.

    confluent_delivery.py BOOTSTRAP TOPIC [--idempotent] < records

Prints, per record read on stdin, either {"event": "ack", "index": i,
"partition": p, "offset": o} or {"event": "delivery_error", "index": i,
"code": n, "name": "INVALID_REQUEST", "message": "...", "retriable": b,
"fatal": b}, as the delivery callback reported it, and exits 0 once every
record has its report. See common.py for the record format.
"""

from confluent_kafka import Producer

import common

TIMEOUT = 60.0


def run():
    p = common.parser("Produce with confluent-kafka-python and report each delivery.")
    p.add_argument("--idempotent", action="store_true")
    args = p.parse_args()
    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "acks": "all",
            "enable.idempotence": args.idempotent,
            "linger.ms": 5,
            "message.timeout.ms": int(TIMEOUT * 1000) // 2,
        }
    )
    reported = set()

    def delivered(index):
        def callback(err, msg):
            reported.add(index)
            if err is None:
                common.emit("ack", index=index, partition=msg.partition(), offset=msg.offset())
                return
            common.emit(
                "delivery_error",
                index=index,
                code=err.code(),
                name=err.name(),
                message=err.str(),
                retriable=err.retriable(),
                fatal=err.fatal(),
            )

        return callback

    records = common.read_records()
    for i, r in enumerate(records):
        kwargs = {"topic": args.topic, "key": r["key"], "value": r["value"], "on_delivery": delivered(i)}
        if r["headers"]:
            kwargs["headers"] = r["headers"]
        if r["partition"] >= 0:
            kwargs["partition"] = r["partition"]
        producer.produce(**kwargs)
        producer.poll(0)
    left = producer.flush(TIMEOUT)
    if left or len(reported) != len(records):
        common.fail(f"{len(records) - len(reported)} of {len(records)} records have no delivery report after {TIMEOUT}s")


if __name__ == "__main__":
    common.main(run)
