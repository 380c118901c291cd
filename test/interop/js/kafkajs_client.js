#!/usr/bin/env node
// KafkaJS as a user would drive it.
//
//   node kafkajs_client.js BOOTSTRAP TOPIC produce [--compression gzip] [--chunk N] < records
//   node kafkajs_client.js BOOTSTRAP TOPIC create --partitions N [--config k=v ...]
//   node kafkajs_client.js BOOTSTRAP TOPIC offsets
//   node kafkajs_client.js BOOTSTRAP TOPIC describe-configs
//
// Records arrive as JSON lines on stdin (see ../python/common.py for the
// format) and are sent with acks -1, CHUNK records per send call. KafkaJS
// reports only each partition's base offset per send, so a record's offset is
// that base plus its position among the call's records for that partition
// (one batch per partition per call); the partitioner is wrapped to learn the
// partition of records that did not name one. Events go to stdout as JSON
// lines, KafkaJS's own logs to stderr.
'use strict'

const fs = require('fs')
const { Kafka, CompressionTypes, ConfigResourceTypes, Partitioners, logLevel } = require('kafkajs')

const prog = 'kafkajs_client.js'
const TIMEOUT_MS = 60000

function fail (msg) {
  process.stderr.write(`${prog}: ${msg}\n`)
  process.exit(1)
}

function emit (event, fields) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n')
}

function fromB64 (s) {
  return s === null || s === undefined ? null : Buffer.from(s, 'base64')
}

function parseArgs (argv) {
  if (argv.length < 3) {
    fail('usage: kafkajs_client.js BOOTSTRAP TOPIC produce|create|offsets|describe-configs [flags]')
  }
  const [bootstrap, topic, command, ...rest] = argv
  const flags = { config: [] }
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i]
    const value = rest[i + 1]
    if (!name.startsWith('--') || value === undefined) {
      fail(`bad flag ${name}`)
    }
    const key = name.slice(2)
    if (key === 'config') {
      flags.config.push(value)
    } else {
      flags[key] = value
    }
  }
  return { bootstrap, topic, command, flags }
}

function readRecords () {
  const lines = fs.readFileSync(0, 'utf8').split('\n')
  const records = []
  lines.forEach((line, n) => {
    if (line.trim() === '') return
    let d
    try {
      d = JSON.parse(line)
    } catch (e) {
      fail(`stdin line ${n + 1}: ${e.message}`)
    }
    records.push({
      partition: d.partition ?? -1,
      key: fromB64(d.key),
      value: fromB64(d.value),
      headers: (d.headers || []).map(h => ({ key: h.key, value: fromB64(h.value) })),
      timestamp: d.timestamp || 0
    })
  })
  return records
}

// toHeaders turns a header list into KafkaJS's object form; repeated keys
// become arrays, which KafkaJS writes as consecutive headers.
function toHeaders (list) {
  const out = {}
  for (const { key, value } of list) {
    if (key in out) {
      out[key] = [].concat(out[key], value)
    } else {
      out[key] = value
    }
  }
  return out
}

function client (bootstrap) {
  return new Kafka({
    clientId: 'strait-interop',
    brokers: [bootstrap],
    connectionTimeout: 10000,
    requestTimeout: TIMEOUT_MS,
    retry: { retries: 5 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      process.stderr.write(`kafkajs ${level} ${namespace}: ${JSON.stringify(log)}\n`)
    }
  })
}

async function produce (kafka, topic, flags) {
  const records = readRecords()
  const chunk = Number(flags.chunk || 20)
  const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }[flags.compression || 'none']
  if (compression === undefined) fail(`--compression ${flags.compression}: want none or gzip`)

  // The partition the default partitioner chose, by message object.
  const chosen = new Map()
  const partitioner = Partitioners.DefaultPartitioner()
  const producer = kafka.producer({
    createPartitioner: () => (args) => {
      const p = partitioner(args)
      chosen.set(args.message, p)
      return p
    }
  })
  await producer.connect()
  try {
    for (let start = 0; start < records.length; start += chunk) {
      const indexes = []
      const messages = []
      records.slice(start, start + chunk).forEach((r, i) => {
        const m = { key: r.key, value: r.value, headers: toHeaders(r.headers) }
        if (r.partition >= 0) m.partition = r.partition
        if (r.timestamp) m.timestamp = String(r.timestamp)
        indexes.push(start + i)
        messages.push(m)
      })
      const meta = await producer.send({ topic, acks: -1, timeout: TIMEOUT_MS, compression, messages })
      const base = new Map()
      for (const m of meta) {
        if (m.errorCode !== 0) fail(`partition ${m.partition}: error code ${m.errorCode}`)
        base.set(m.partition, BigInt(m.baseOffset))
      }
      const seen = new Map()
      messages.forEach((m, i) => {
        const p = m.partition ?? chosen.get(m)
        if (p === undefined || !base.has(p)) fail(`record ${indexes[i]}: no partition or base offset (partition ${p})`)
        const n = seen.get(p) || 0n
        seen.set(p, n + 1n)
        emit('ack', { index: indexes[i], partition: p, offset: Number(base.get(p) + n) })
      })
    }
  } finally {
    await producer.disconnect()
  }
}

async function withAdmin (kafka, fn) {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

async function create (kafka, topic, flags) {
  const partitions = Number(flags.partitions)
  if (!(partitions > 0)) fail('create needs --partitions N')
  const configEntries = flags.config.map(kv => {
    const i = kv.indexOf('=')
    if (i <= 0) fail(`--config ${kv}: want key=value`)
    return { name: kv.slice(0, i), value: kv.slice(i + 1) }
  })
  await withAdmin(kafka, async admin => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }],
      waitForLeaders: true,
      timeout: TIMEOUT_MS
    })
    if (!created) fail(`topic ${topic} already existed`)
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    emit('topic', { name: topic, partitions: md.topics[0].partitions.length })
  })
}

async function offsets (kafka, topic) {
  await withAdmin(kafka, async admin => {
    for (const o of await admin.fetchTopicOffsets(topic)) {
      emit('offsets', { partition: o.partition, low: Number(o.low), high: Number(o.high) })
    }
  })
}

async function describeConfigs (kafka, topic) {
  await withAdmin(kafka, async admin => {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }]
    })
    for (const r of res.resources) {
      if (r.errorCode !== 0) fail(`describeConfigs ${r.resourceName}: error code ${r.errorCode} ${r.errorMessage}`)
      for (const e of r.configEntries) {
        emit('config', {
          name: e.configName,
          config_value: e.configValue,
          source: e.configSource,
          is_default: e.isDefault,
          read_only: e.readOnly
        })
      }
    }
  })
}

async function main () {
  const { bootstrap, topic, command, flags } = parseArgs(process.argv.slice(2))
  const kafka = client(bootstrap)
  switch (command) {
    case 'produce': return produce(kafka, topic, flags)
    case 'create': return create(kafka, topic, flags)
    case 'offsets': return offsets(kafka, topic)
    case 'describe-configs': return describeConfigs(kafka, topic)
    default: fail(`unknown command ${command}`)
  }
}

main().catch(e => fail(e && e.stack ? e.stack : String(e)))
