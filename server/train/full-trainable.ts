import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../ml/architectures/types.js';
import { maskedCrossEntropySum } from './loss.js';
import type { TrainableModel } from './trainer.js';

/** Full fine-tuning: every weight of a model built with `{ trainable: true }` is trained. */
export function fullTrainable(model: CausalLM): TrainableModel {
  const variables = model.weights.map(({ name, tensor }) => {
    if (!(tensor instanceof tf.Variable)) {
      throw new Error(`weight ${name} is not trainable: build the model with { trainable: true }`);
    }
    return tensor;
  });
  return {
    variables,
    exampleLoss: (example) =>
      tf.tidy(() => maskedCrossEntropySum(model.forward(example.ids), example.ids, example.targets)),
  };
}
