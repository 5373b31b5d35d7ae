import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../ml/architectures/types.js';
import type { LoraAdapter } from '../ml/lora.js';
import { maskedCrossEntropySum } from './loss.js';
import type { TrainableModel } from './trainer.js';

/** A model with a LoRA adapter as the trainer sees it: only the adapter's A and B are trained. */
export function loraTrainable(model: CausalLM, adapter: LoraAdapter): TrainableModel {
  return {
    variables: adapter.variables,
    exampleLoss(example, training) {
      adapter.training = training;
      try {
        return tf.tidy(() => {
          const logits = model.forward(example.ids); // [T, vocab]
          return maskedCrossEntropySum(logits, example.ids, example.targets);
        });
      } finally {
        adapter.training = false;
      }
    },
  };
}
