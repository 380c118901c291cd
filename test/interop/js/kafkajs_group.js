#!/usr/bin/env node
// A KafkaJS consumer-group member, as a user runs one.
//
//   node kafkajs_group.js BOOTSTRAP TOPIC GROUP COUNT
//
// It subscribes to TOPIC in GROUP from the beginning (for a group without
// committed offsets), reads COUNT records, commits the offset after the last
// record read of each partition, disconnects (leaving the group) and exits.
// It prints one {"event": "record", "partition", "offset", "value"} per
// record (value as base64) and then {"event": "committed", "offsets":
// [{"partition", "offset"}]} with what the broker returns for the group.
'use strict'

const { Kafka, logLevel } = require('kafkajs')

const prog = 'kafkajs_group.js'
const TIMEOUT_MS = 60000

function fail (msg) {
  process.stderr.write(`${prog}: ${msg}\n`)
  process.exit(1)
}

function emit (event, fields) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n')
}

async function main () {
  const [bootstrap, topic, groupId, countArg] = process.argv.slice(2)
  const count = Number(countArg)
  if (!bootstrap || !topic || !groupId || !(count > 0)) fail('usage: kafkajs_group.js BOOTSTRAP TOPIC GROUP COUNT')
  const kafka = new Kafka({
    clientId: 'kafkajs-group',
    brokers: [bootstrap],
    connectionTimeout: 10000,
    requestTimeout: TIMEOUT_MS,
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      process.stderr.write(`kafkajs ${level} ${namespace}: ${JSON.stringify(log)}\n`)
    }
  })
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })

  const next = new Map() // partition -> offset after the last record read
  let read = 0
  let done
  const finished = new Promise(resolve => { done = resolve })
  const timer = setTimeout(() => fail(`read ${read} of ${count} records in ${TIMEOUT_MS} ms`), TIMEOUT_MS)
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (read >= count) return
      read++
      const offset = Number(message.offset)
      emit('record', { partition, offset, value: message.value ? message.value.toString('base64') : null })
      next.set(partition, Math.max(next.get(partition) ?? 0, offset + 1))
      if (read === count) done()
    }
  })
  await finished
  clearTimeout(timer)
  await consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })))
  await consumer.disconnect()

  const admin = kafka.admin()
  await admin.connect()
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] })
    const offsets = res[0].partitions
      .map(p => ({ partition: p.partition, offset: Number(p.offset) }))
      .filter(p => p.offset >= 0)
    emit('committed', { offsets })
  } finally {
    await admin.disconnect()
  }
}

main().catch(e => fail(e && e.stack ? e.stack : String(e)))
