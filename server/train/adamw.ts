/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay applied to the weights directly, not
 * through the gradient. tfjs ships Adam without it. Its state (step and moments) serializes, so a
 * checkpoint resumes the exact trajectory.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

export interface AdamWState {
  step: number;
  /** Per variable, in order: first and second moments as flat arrays. */
  moments: { m: number[]; v: number[] }[];
}

/** The same state as typed arrays, for a checkpoint's safetensors file (exact float32 values). */
export interface AdamWSnapshot {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class AdamW {
  private step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;

  constructor(
    private readonly variables: tf.Variable[],
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    // tidy frees the zeros; variables outlive it.
    this.m = variables.map((variable) => tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
    this.v = variables.map((variable) => tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
  }

  /** One update with `grads[i]` for `variables[i]` at learning rate `lr`. */
  apply(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.variables.length) {
      throw new Error(`AdamW got ${grads.length} gradients for ${this.variables.length} variables`);
    }
    this.step += 1;
    const correction1 = 1 - this.beta1 ** this.step;
    const correction2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const grad = grads[i]!;
        const m = this.m[i]!.mul(this.beta1).add(grad.mul(1 - this.beta1));
        const v = this.v[i]!.mul(this.beta2).add(grad.square().mul(1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = m.div(correction1).div(v.div(correction2).sqrt().add(this.epsilon));
        const decayed = this.weightDecay > 0 ? variable.mul(1 - lr * this.weightDecay) : variable;
        variable.assign(decayed.sub(update.mul(lr)));
      });
    });
  }

  state(): AdamWState {
    return {
      step: this.step,
      moments: this.m.map((m, i) => ({ m: Array.from(m.dataSync()), v: Array.from(this.v[i]!.dataSync()) })),
    };
  }

  restore(state: AdamWState): void {
    if (state.moments.length !== this.variables.length) {
      throw new Error(`AdamW state holds ${state.moments.length} variables, not ${this.variables.length}`);
    }
    this.step = state.step;
    tf.tidy(() => {
      state.moments.forEach(({ m, v }, i) => {
        this.m[i]!.assign(tf.tensor(m, this.m[i]!.shape));
        this.v[i]!.assign(tf.tensor(v, this.v[i]!.shape));
      });
    });
  }

  /** Copies of the moments, read asynchronously (every backend supports it) outside any tidy. */
  async snapshot(): Promise<AdamWSnapshot> {
    const read = (variables: tf.Variable[]) =>
      Promise.all(variables.map(async (variable) => ((await variable.data()) as Float32Array).slice()));
    const step = this.step;
    const [m, v] = await Promise.all([read(this.m), read(this.v)]);
    return { step, m, v };
  }

  load(snapshot: AdamWSnapshot): void {
    if (snapshot.m.length !== this.variables.length || snapshot.v.length !== this.variables.length) {
      throw new Error(`AdamW snapshot holds ${snapshot.m.length} variables, not ${this.variables.length}`);
    }
    this.step = snapshot.step;
    tf.tidy(() => {
      this.m.forEach((m, i) => {
        if (snapshot.m[i]!.length !== m.size || snapshot.v[i]!.length !== m.size) {
          throw new Error(`AdamW snapshot: variable ${i} has ${snapshot.m[i]!.length} values, not ${m.size}`);
        }
        m.assign(tf.tensor(snapshot.m[i]!, m.shape));
        this.v[i]!.assign(tf.tensor(snapshot.v[i]!, m.shape));
      });
    });
  }

  dispose(): void {
    for (const variable of [...this.m, ...this.v]) variable.dispose();
  }
}
