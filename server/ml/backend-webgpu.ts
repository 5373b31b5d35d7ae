/**
 * WebGPU in Node: Dawn's bindings (the `webgpu` npm package) provide navigator.gpu, and
 * @tensorflow/tfjs-backend-webgpu runs on it. A software adapter (lavapipe, SwiftShader, WARP) is
 * slower than wasm, so auto counts only a real GPU; tests ask for the software one on purpose, to run
 * the GPU code path on machines without a GPU.
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

/** What to install for Mesa's software Vulkan driver, which Dawn accepts from Mesa 25 on. */
export const SOFTWARE_VULKAN_HINT =
  "install Vulkan and Mesa's software driver (lavapipe), Mesa 25 or newer: on Debian 12, add " +
  "'deb http://deb.debian.org/debian bookworm-backports main' to the apt sources and run " +
  "`apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers` (bookworm's own Mesa 22 " +
  'lacks shaderUniform*ArrayDynamicIndexing, which Dawn requires)';

interface GpuAdapter {
  info?: AdapterInfo;
  isFallbackAdapter?: boolean;
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: object): Promise<GpuAdapter | null> };
  globals: object;
}

export interface WebGpuOptions {
  /**
   * Ask Dawn for the software (fallback) adapter, Mesa's lavapipe on Linux, even where a GPU is
   * present: what tests do to run the GPU code path the same way on every machine.
   */
  forceSoftware?: boolean;
  /** Accept a software adapter (an explicitly named backend); auto refuses one. */
  allowSoftware?: boolean;
}

export interface InstalledWebGpu {
  /** The adapter in words (vendor, architecture, device, description). */
  adapter: string;
  software: boolean;
}

/** The adapter's info, read field by field: Dawn's GPUAdapterInfo has getters, which a spread drops. */
function infoOf(adapter: GpuAdapter): AdapterInfo {
  return {
    vendor: adapter.info?.vendor,
    architecture: adapter.info?.architecture,
    device: adapter.info?.device,
    description: adapter.info?.description,
    isFallbackAdapter: adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter,
  };
}

/**
 * Installs navigator.gpu from `dawn` and checks its adapter; returns what it is, or throws with the
 * reason WebGPU cannot or should not be used, leaving navigator untouched.
 */
export async function installWebGpu(dawn: DawnModule, options: WebGpuOptions = {}): Promise<InstalledWebGpu> {
  const gpu = dawn.create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  // Dawn (webgpu 0.6) answers forceFallbackAdapter with null until an ordinary request has discovered
  // the adapters, so the software one is asked for second, and only when the first is a GPU.
  if (adapter && options.forceSoftware && !isSoftwareAdapter(infoOf(adapter)))
    adapter = await gpu.requestAdapter({ forceFallbackAdapter: true });
  if (!adapter) {
    throw new Error(
      options.forceSoftware
        ? `WebGPU found no software adapter: ${SOFTWARE_VULKAN_HINT}`
        : "WebGPU found no adapter: no Vulkan driver took it (a GPU's driver, or for the software " +
            `one: ${SOFTWARE_VULKAN_HINT})`,
    );
  }
  const info = infoOf(adapter);
  const software = isSoftwareAdapter(info);
  if (software && !(options.allowSoftware || options.forceSoftware))
    throw new Error(`the WebGPU adapter is software rendering (${describeAdapter(info)}), not a GPU`);
  if (options.forceSoftware && !software)
    throw new Error(`WebGPU was asked for a software adapter and gave ${describeAdapter(info)}`);
  Object.assign(globalThis, dawn.globals);
  // tfjs-backend-webgpu reads navigator.gpu; Node 21+ has a navigator without gpu, Node 20 none.
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return { adapter: describeAdapter(info), software };
}
