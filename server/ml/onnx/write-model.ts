/**
 * Writes a GraphBuilder as an ONNX model file. protobufjs encodes every message; the weights are
 * streamed: each initializer is a TensorProto encoded on its own and appended to the graph (a
 * repeated field may be written in any number of pieces), so only one weight is in memory at a time
 * beside the checkpoint.
 */
import { open, rename, rm } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import type { GraphBuilder } from './graph.js';
import { valueInfoProto } from './graph.js';
import {
  DataType,
  encode,
  fieldHeader,
  GRAPH_INITIALIZER_FIELD,
  GraphProto,
  MODEL_GRAPH_FIELD,
  ModelProto,
  TensorProto,
} from './proto.js';

/** TensorProto.raw_data. */
const RAW_DATA_FIELD = 9;
/** IR version 8 goes with opset 17 (onnx/helper.py's VERSION_TABLE, onnx 1.12). */
export const IR_VERSION = 8;

/** Protobuf's 2 GiB message limit: larger models need ONNX external data, which this writer does not do. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

export interface WriteModelOptions {
  opset: number;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/** Writes `graph` to `file` (through a temporary file, renamed into place); returns the bytes written. */
export async function writeOnnxModel(
  file: string,
  graph: GraphBuilder,
  options: WriteModelOptions,
): Promise<number> {
  const head = encode(GraphProto, {
    name: 'parley',
    node: graph.nodeProtos(),
    initializer: graph.constantProtos(),
    input: graph.inputs.map(valueInfoProto),
    output: graph.outputs.map(valueInfoProto),
  });
  // Each initializer: TensorProto{name, dims, data_type} followed by its raw_data field.
  const tensors = graph.initializers.map((init) => {
    const meta = encode(TensorProto, { name: init.name, dims: init.dims, dataType: DataType.FLOAT });
    const dataBytes = init.dims.reduce((a, b) => a * b, 1) * 4;
    const rawHeader = fieldHeader(RAW_DATA_FIELD, dataBytes);
    const length = meta.length + rawHeader.length + dataBytes;
    return { init, meta, rawHeader, dataBytes, header: fieldHeader(GRAPH_INITIALIZER_FIELD, length) };
  });
  const graphBytes = tensors.reduce(
    (sum, t) => sum + t.header.length + t.meta.length + t.rawHeader.length + t.dataBytes,
    head.length,
  );
  const model = encode(ModelProto, {
    irVersion: IR_VERSION,
    producerName: 'parley',
    producerVersion: options.producerVersion,
    docString: options.docString ?? '',
    opsetImport: [{ domain: '', version: options.opset }],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const graphHeader = fieldHeader(MODEL_GRAPH_FIELD, graphBytes);
  const total = model.length + graphHeader.length + graphBytes;
  if (total > MAX_MODEL_BYTES) {
    throw new Error(`the ONNX model would be ${total} bytes, over protobuf's 2 GiB limit`);
  }

  const partial = `${file}.${process.pid}-${threadId}.partial`;
  const handle = await open(partial, 'w');
  try {
    for (const part of [model, graphHeader, head]) await handle.write(part);
    for (const t of tensors) {
      const data = t.init.data();
      if (data.length * 4 !== t.dataBytes) {
        throw new Error(`initializer ${t.init.name}: ${data.length} values for dims [${t.init.dims}]`);
      }
      for (const part of [t.header, t.meta, t.rawHeader]) await handle.write(part);
      // raw_data is little-endian; Float32Array is in the platform's order (little-endian on x86 and arm64).
      await handle.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } catch (error) {
    await handle.close();
    await rm(partial, { force: true });
    throw error;
  }
  await handle.close();
  await rename(partial, file);
  return total;
}
