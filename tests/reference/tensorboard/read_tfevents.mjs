// Reads a TensorBoard event file with libraries VlmTune does not use — protobufjs for the protobuf messages
// (field numbers from tensorboard/compat/proto/event.proto and summary.proto) and @aws-crypto/crc32c for the
// TFRecord checksums — and writes what it read as JSON (tests/fixtures/tensorboard/expected_decode.json).
//
//   cd tests/reference/tensorboard && npm install protobufjs@8.8.1 @aws-crypto/crc32c@5.2.0
//   node read_tfevents.mjs ../../fixtures/tensorboard/events.out.tfevents.fixture > ../../fixtures/tensorboard/expected_decode.json
import protobuf from 'protobufjs';
import { crc32c } from '@aws-crypto/crc32c';
import { readFileSync } from 'node:fs';

const proto = `
syntax = "proto3";
package tensorflow;
message SummaryMetadata { message PluginData { string plugin_name = 1; bytes content = 2; } PluginData plugin_data = 1; string display_name = 2; string summary_description = 3; }
message Summary {
  message Value { string node_name = 7; string tag = 1; SummaryMetadata metadata = 9; oneof value { float simple_value = 2; bytes obsolete_old_style_histogram = 3; } }
  repeated Value value = 1;
}
message Event { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; bytes graph_def = 4; Summary summary = 5; } }
`;
const Event = protobuf.parse(proto).root.lookupType('tensorflow.Event');
const mask = (crc) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

const buf = readFileSync(process.argv[2]);
const events = [];
let crcOk = true;
for (let at = 0; at < buf.length;) {
  const length = Number(buf.readBigUInt64LE(at));
  crcOk &&= buf.readUInt32LE(at + 8) === mask(crc32c(buf.subarray(at, at + 8)));
  const data = buf.subarray(at + 12, at + 12 + length);
  crcOk &&= buf.readUInt32LE(at + 12 + length) === mask(crc32c(data));
  events.push(Event.toObject(Event.decode(data), { longs: String, defaults: false }));
  at += 16 + length;
}
process.stdout.write(JSON.stringify({ reader: 'protobufjs 8.8.1 + @aws-crypto/crc32c 5.2.0', crcOk, events }, null, 1) + '\n');
