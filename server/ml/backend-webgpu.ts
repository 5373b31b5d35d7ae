/**
 * WebGPU in Node: Dawn's bindings (the `webgpu` npm package) provide navigator.gpu, and
 * @tensorflow/tfjs-backend-webgpu runs on it. A software adapter (SwiftShader, llvmpipe, WARP) is
 * slower than wasm, so only a real GPU counts.
 */

export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b|software/i;

/** True for a CPU-emulated adapter, which WebGPU may hand out when no GPU is present. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  if (info.isFallbackAdapter) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => s && SOFTWARE.test(s));
}

export function describeAdapter(info: AdapterInfo): string {
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return text || 'an unnamed adapter';
}

interface GpuAdapter {
  info?: AdapterInfo;
  isFallbackAdapter?: boolean;
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: object): Promise<GpuAdapter | null> };
  globals: Record<string, unknown>;
}

/**
 * Installs navigator.gpu from `dawn` and checks its adapter; returns the adapter's description, or
 * throws with the reason WebGPU is not worth using.
 */
export async function installWebGpu(dawn: DawnModule): Promise<string> {
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU found no adapter');
  const info: AdapterInfo = {
    ...adapter.info,
    isFallbackAdapter: adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter,
  };
  if (isSoftwareAdapter(info))
    throw new Error(`the WebGPU adapter is software rendering (${describeAdapter(info)}), not a GPU`);
  Object.assign(globalThis, dawn.globals);
  // tfjs-backend-webgpu reads navigator.gpu; Node 21+ has a navigator without gpu, Node 20 none.
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return describeAdapter(info);
}
