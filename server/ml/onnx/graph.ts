/**
 * A small builder for ONNX graphs: nodes with generated output names, constants, graph inputs and
 * outputs with symbolic dimensions, and initializers that are produced only when the model file is
 * written (so that a 500 MB model is never held twice).
 */
import { AttributeType, DataType, type DataTypeValue } from './proto.js';

/** A dimension: a fixed size or a symbolic name such as "batch_size". */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataTypeValue;
  shape: Dim[];
}

export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

export interface GraphNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, AttributeValue>;
}

/** A weight whose float32 data is produced when the file is written. */
export interface Initializer {
  name: string;
  dims: number[];
  /** Float32 values in row-major order. */
  data: () => Float32Array;
}

/** A small constant stored inline in the graph (shapes, axes, scalars). */
interface Constant {
  name: string;
  dims: number[];
  dataType: DataTypeValue;
  values: number[];
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: Initializer[] = [];
  private readonly constants = new Map<string, Constant>();
  private readonly used = new Set<string>();
  private counter = 0;

  input(name: string, elemType: DataTypeValue, shape: Dim[]): string {
    this.claim(name);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares the value `name` (an input or a node's named output) a graph output. */
  output(name: string, elemType: DataTypeValue, shape: Dim[]): void {
    this.outputs.push({ name, elemType, shape });
  }

  initializer(name: string, dims: number[], data: () => Float32Array): string {
    this.claim(name);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** An int64 constant (deduplicated by value); scalar when `dims` is []. */
  int64(values: number[], dims: number[] = [values.length]): string {
    return this.constant(DataType.INT64, values, dims);
  }

  /** A float32 constant (deduplicated by value); scalar when `dims` is []. */
  float(values: number[], dims: number[] = [values.length]): string {
    return this.constant(DataType.FLOAT, values, dims);
  }

  /** Adds a node and returns its first output; `output` names it, otherwise a unique name is made. */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    return this.nodeMulti(opType, inputs, 1, attributes, output ? [output] : undefined)[0]!;
  }

  nodeMulti(
    opType: string,
    inputs: string[],
    outputCount: number,
    attributes: Record<string, AttributeValue> = {},
    outputNames?: string[],
  ): string[] {
    const id = this.counter++;
    const outputs =
      outputNames ?? Array.from({ length: outputCount }, (_, i) => `/${opType.toLowerCase()}_${id}/out${i}`);
    for (const o of outputs) this.claim(o);
    this.nodes.push({ opType, inputs, outputs, name: `${opType}_${id}`, attributes });
    return outputs;
  }

  /** The node list as NodeProto objects. */
  nodeProtos(): Record<string, unknown>[] {
    return this.nodes.map((n) => ({
      input: n.inputs,
      output: n.outputs,
      name: n.name,
      opType: n.opType,
      attribute: Object.entries(n.attributes).map(([name, value]) => attributeProto(name, value)),
    }));
  }

  /** The inline constants as TensorProto objects. */
  constantProtos(): Record<string, unknown>[] {
    return [...this.constants.values()].map((c) => ({
      name: c.name,
      dims: c.dims,
      dataType: c.dataType,
      ...(c.dataType === DataType.INT64 ? { int64Data: c.values } : { floatData: c.values }),
    }));
  }

  private constant(dataType: DataTypeValue, values: number[], dims: number[]): string {
    const key = `${dataType}:${dims.join('x')}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing.name;
    const name = `/const_${this.constants.size}`;
    this.claim(name);
    this.constants.set(key, { name, dims, dataType, values });
    return name;
  }

  private claim(name: string): void {
    if (this.used.has(name)) throw new Error(`ONNX graph: the name ${name} is defined twice`);
    this.used.add(name);
  }
}

function attributeProto(name: string, value: AttributeValue): Record<string, unknown> {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

export function valueInfoProto(v: ValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
