import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../ml/architectures/types.js';
import type { LoraAdapter } from '../ml/lora.js';
import { maskedCrossEntropySum } from './loss.js';
import { SeededStream } from './random.js';
import type { TrainableModel } from './trainer.js';

/**
 * A model with a LoRA adapter as the trainer sees it: only the adapter's A and B are trained.
 * Dropout masks are seeded from one stream (`dropoutSeed`), whose position goes into checkpoints,
 * so that a resumed run draws the masks an uninterrupted one would.
 */
export function loraTrainable(model: CausalLM, adapter: LoraAdapter, dropoutSeed = 0): TrainableModel {
  let dropout = new SeededStream(dropoutSeed);
  return {
    variables: adapter.variables,
    exampleLoss(example, training) {
      adapter.training = training;
      adapter.dropoutSeed = () => dropout.nextSeed();
      try {
        return tf.tidy(() => {
          const logits = model.forward(example.ids); // [T, vocab]
          return maskedCrossEntropySum(logits, example.ids, example.targets);
        });
      } finally {
        adapter.training = false;
        adapter.dropoutSeed = null;
      }
    },
    randomState: () => ({ dropout: dropout.position }),
    restoreRandomState(state) {
      if (state.dropout === undefined) throw new Error('the checkpoint has no dropout generator state');
      dropout = SeededStream.fromState(state.dropout);
    },
  };
}
