import type { Llama3RopeScaling } from '../config.js';

/**
 * RoPE inverse frequencies theta^(-2j/d), j < d/2; with Llama 3 scaling (HF's
 * _compute_llama3_parameters): long wavelengths are divided by `factor`, short ones kept, and the
 * band between them interpolated smoothly.
 */
export function ropeInverseFrequencies(
  headDim: number,
  theta: number,
  scaling: Llama3RopeScaling | null,
): Float64Array {
  const half = headDim / 2;
  const inverse = new Float64Array(half);
  for (let j = 0; j < half; j++) inverse[j] = theta ** ((-2 * j) / headDim);
  if (!scaling) return inverse;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: context } = scaling;
  const lowFreqWavelength = context / lowFreqFactor;
  const highFreqWavelength = context / highFreqFactor;
  for (let j = 0; j < half; j++) {
    const frequency = inverse[j]!;
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highFreqWavelength) continue; // high frequency: unchanged
    if (wavelength > lowFreqWavelength) {
      inverse[j] = frequency / factor; // low frequency: scaled
      continue;
    }
    const smooth = (context / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    inverse[j] = (1 - smooth) * (frequency / factor) + smooth * frequency;
  }
  return inverse;
}
