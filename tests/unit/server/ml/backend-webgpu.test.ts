import { describe, expect, it } from 'vitest';
import { describeAdapter, isSoftwareAdapter } from '../../../../server/ml/backend-webgpu.js';

describe('isSoftwareAdapter', () => {
  const software: [string, Parameters<typeof isSoftwareAdapter>[0]][] = [
    ['SwiftShader', { vendor: 'google', architecture: 'swiftshader', device: 'subzero' }],
    ['llvmpipe', { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.7, 256 bits)' }],
    ['lavapipe', { vendor: 'mesa', device: 'lavapipe' }],
    ['WARP', { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }],
    ['a fallback adapter whatever its name', { vendor: 'nvidia', isFallbackAdapter: true }],
  ];
  for (const [name, info] of software) {
    it(`treats ${name} as software`, () => expect(isSoftwareAdapter(info)).toBe(true));
  }

  const gpus: [string, Parameters<typeof isSoftwareAdapter>[0]][] = [
    ['an NVIDIA GPU', { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }],
    ['an Apple GPU', { vendor: 'apple', architecture: 'metal-3', isFallbackAdapter: false }],
    ['an AMD GPU', { vendor: 'amd', architecture: 'rdna-3', description: 'Radeon RX 7900 XTX' }],
    ['an Intel GPU', { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' }],
    ['an adapter with no information', {}],
  ];
  for (const [name, info] of gpus) {
    it(`does not treat ${name} as software`, () => expect(isSoftwareAdapter(info)).toBe(false));
  }
});

describe('describeAdapter', () => {
  it('joins what the adapter says about itself', () => {
    expect(
      describeAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'H100' }),
    ).toBe('nvidia hopper H100');
  });

  it('names an adapter that says nothing', () => {
    expect(describeAdapter({})).toBe('an unnamed adapter');
  });
});
