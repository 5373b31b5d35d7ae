/**
 * The Dockerfile, read without a Docker engine: lint (dockerfile-utils, the Docker language server's
 * validator) plus what a linter cannot know: the stages and the default target, a non-root user and a
 * health check in both runtime images, every COPY source present in the repository and not excluded
 * by .dockerignore, the entry point, install scripts limited to package.json's allowScripts, and the
 * pinned CUDA/cuDNN/libtensorflow versions against docs/docker.md's table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { ADDON_FILE } from '../../../server/ml/kernels/native-matmul.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const dockerfileText = read('Dockerfile');
const dockerfile = DockerfileParser.parse(dockerfileText);

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages in order, each with the instructions after its FROM. */
function stages(): Stage[] {
  const result: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', as, name] = instruction.getArguments().map((a) => a.getValue());
      expect(as?.toUpperCase(), `FROM ${image} names its stage (AS name)`).toBe('AS');
      result.push({ name: name ?? '', image, instructions: [] });
    } else {
      const current = result.at(-1);
      if (!current) throw new Error(`${instruction.getKeyword()} before the first FROM`);
      current.instructions.push(instruction);
    }
  }
  return result;
}

function stage(name: string): Stage {
  const found = stages().find((s) => s.name === name);
  if (!found) throw new Error(`no stage named ${name}; stages: ${stages().map((s) => s.name)}`);
  return found;
}

const of = (s: Stage, keyword: string) => s.instructions.filter((i) => i.getKeyword() === keyword);
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
/** A COPY's --from stage, or null for a copy from the build context. */
const copyFrom = (i: Instruction) => (i as Copy).getFromFlag()?.getValue() ?? null;
/** An exec-form instruction's JSON array. */
const jsonArgs = (i: Instruction): string[] => JSON.parse(i.getRawArgumentsContent() ?? 'null');
/** ENV name=value pairs of a stage, later ones winning. */
function envOf(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of of(s, 'ENV')) {
    const properties = (
      instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
    ).getProperties();
    for (const property of properties) env[property.getName()] = property.getValue() ?? '';
  }
  return env;
}

/** .dockerignore rules: Go filepath.Match patterns plus `**`, `!` re-includes, the last match wins. */
function dockerignore(): (relative: string) => boolean {
  const rules = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix
        .normalize(line.slice(negate ? 1 : 0).replace(/^\/+/, ''))
        .replace(/\/+$/, '');
      const source = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => {
          if (part === '**/') return '(?:.*/)?';
          if (part === '**') return '.*';
          if (part === '*') return '[^/]*';
          if (part === '?') return '[^/]';
          return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (relative) => {
    const parts = relative.split('/');
    // A path is out when it, or a folder above it, is out.
    for (let depth = 1; depth <= parts.length; depth++) {
      const prefix = parts.slice(0, depth).join('/');
      let excluded = false;
      for (const rule of rules) if (rule.regex.test(prefix)) excluded = !rule.negate;
      if (excluded) return true;
    }
    return false;
  };
}

/** The files of a clean clone under `relative` (what git tracks; local build output is not). */
function filesUnder(relative: string): string[] {
  return execFileSync('git', ['ls-files', '-z', '--', relative], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
}

/** docs/docker.md's versions table: component -> version. */
function documentedVersions(): Record<string, string> {
  const table: Record<string, string> = {};
  let inTable = false;
  for (const line of read('docs/docker.md').split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (cells[0] === 'component' && cells[1] === 'version') inTable = true;
    else if (inTable && cells.length < 2) break;
    else if (inTable && !/^-+$/.test(cells[0] ?? '')) table[cells[0] ?? ''] = cells[1] ?? '';
  }
  return table;
}

/**
 * What each libtensorflow release was built against (TensorFlow's tested build configurations):
 * a GPU image must bring this CUDA and cuDNN. tfjs-node 4.x downloads libtensorflow 2.9.1.
 */
const TENSORFLOW_BUILT_WITH: Record<string, { cuda: string; cudnn: string }> = {
  '2.9': { cuda: '11.2', cudnn: '8.1' },
};

const RUNTIME_STAGES = ['cpu', 'gpu'];

describe('Dockerfile', () => {
  it('passes the dockerfile-utils linter with no error or warning', () => {
    const problems = validate(dockerfileText).map(
      (d) => `line ${d.range.start.line + 1}: ${d.message} (${d.severity === 1 ? 'error' : 'warning'})`,
    );
    expect(problems).toEqual([]);
  });

  it('has a deps stage, a gpu target and the cpu image as the default (last) stage', () => {
    const names = stages().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['deps', 'gpu', 'cpu']));
    expect(new Set(names).size, 'stage names are unique').toBe(names.length);
    expect(names.at(-1)).toBe('cpu');
    expect(stage('cpu').image).toMatch(/^node:20-bookworm-slim$/);
  });

  it('copies between stages only from an earlier stage', () => {
    const seen: string[] = [];
    for (const s of stages()) {
      for (const copy of of(s, 'COPY')) {
        const from = copyFrom(copy);
        if (from) expect(seen, `COPY --from=${from} in ${s.name}`).toContain(from);
      }
      seen.push(s.name);
    }
  });

  it.each(RUNTIME_STAGES)('%s: runs as a non-root user, with a health check on /healthz', (name) => {
    const s = stage(name);
    const users = of(s, 'USER').map((u) => args(u)[0]);
    expect(users.length, 'a USER instruction').toBeGreaterThan(0);
    const user = users.at(-1) ?? '';
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(user).toBe('node');
    // USER comes after every RUN, so nothing in the image runs as root after it.
    const lastUser = s.instructions.lastIndexOf(of(s, 'USER').at(-1) as Instruction);
    const lastRun = s.instructions.lastIndexOf(of(s, 'RUN').at(-1) as Instruction);
    expect(lastUser).toBeGreaterThan(lastRun);

    const healthchecks = of(s, 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0]?.getRawArgumentsContent()).toContain('/healthz');
  });

  it.each(RUNTIME_STAGES)('%s: production settings, the /data volume and the published port', (name) => {
    const s = stage(name);
    const env = envOf(s);
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PARLEY_DATA_DIR: '/data' });
    expect(of(s, 'VOLUME').flatMap(args)).toContain('/data');
    expect(of(s, 'EXPOSE').flatMap(args)).toContain(env.PORT);
    expect(of(s, 'WORKDIR').map((w) => args(w)[0])).toEqual(['/app']);
  });

  it.each(RUNTIME_STAGES)('%s: starts `parley serve` through an entry point that exists', (name) => {
    const s = stage(name);
    const [entrypoint] = of(s, 'ENTRYPOINT');
    const [cmd] = of(s, 'CMD');
    if (!entrypoint || !cmd) throw new Error(`${name} has no ENTRYPOINT or CMD`);
    const [program, script] = jsonArgs(entrypoint);
    expect(program).toBe('node');
    expect(script).toMatch(/^\/app\//);
    const inRepo = path.relative('/app', script ?? '');
    expect(existsSync(path.join(root, inRepo)), `${inRepo} exists`).toBe(true);
    expect(dockerignore()(inRepo), `${inRepo} is not in .dockerignore`).toBe(false);

    const [command] = jsonArgs(cmd);
    expect(command).toBe('serve');
    const cli = readdirSync(path.join(root, 'server', 'cli'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => read(path.join('server', 'cli', file)))
      .join('\n');
    expect(cli).toContain(`.command('${command}')`);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const excluded = dockerignore();
    const sources = stages().flatMap((s) =>
      of(s, 'COPY')
        .filter((copy) => copyFrom(copy) === null)
        .flatMap((copy) => args(copy).slice(0, -1)),
    );
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'server', 'seed']));
    for (const source of sources) {
      expect(existsSync(path.join(root, source)), `${source} exists`).toBe(true);
      const out = filesUnder(source).filter(excluded);
      expect(out, `files of ${source} excluded by .dockerignore`).toEqual([]);
    }
  });

  it('keeps node_modules, data, test output, scratch and .git out of the build context', () => {
    const excluded = dockerignore();
    for (const out of ['node_modules', 'node_modules/x/y.js', 'data', 'data/embedded-db.bson', '.git'])
      expect(excluded(out), out).toBe(true);
    for (const out of ['test-artifacts/widget/a.png', 'scratch/x', 'client/widget/node_modules/z', '.env'])
      expect(excluded(out), out).toBe(true);
    for (const kept of ['server/index.ts', 'client/widget/loader.ts', 'seed/starter/model', 'package.json'])
      expect(excluded(kept), kept).toBe(false);
  });

  it('runs no install script during npm ci, then only the ones allowScripts allows', () => {
    const deps = of(stage('deps'), 'RUN')
      .map((r) => r.getRawArgumentsContent() ?? '')
      .join('\n');
    expect(deps).toMatch(/npm ci\b[^\n]*--omit=dev/);
    expect(deps).toMatch(/npm ci\b[^\n]*--ignore-scripts/);
    expect(deps).toContain("require('./package.json').allowScripts");
    expect(deps).toMatch(/npm rebuild \$\{allowed\}/);
    // The packages that have install scripts are all named in allowScripts (true or false).
    const pkg = JSON.parse(read('package.json')) as {
      allowScripts: Record<string, boolean>;
      optionalDependencies: Record<string, string>;
    };
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([where, entry]) => where.startsWith('node_modules/') && entry.hasInstallScript && !entry.dev)
      .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
    const handled = [...Object.keys(pkg.allowScripts), ...Object.keys(pkg.optionalDependencies)];
    expect(withScripts.filter((name) => !handled.includes(name))).toEqual([]);
  });

  it('leaves tfjs-node-gpu out of the CPU image and builds it in the GPU one', () => {
    const cpuCopies = of(stage('cpu'), 'COPY').map((copy) => [copyFrom(copy), ...args(copy)].join(' '));
    expect(cpuCopies).toContain('deps-cpu /app/node_modules node_modules');
    expect(of(stage('deps-cpu'), 'RUN').map((r) => r.getRawArgumentsContent())).toContain(
      'rm -rf node_modules/@tensorflow/tfjs-node-gpu',
    );
    const gpuDeps = of(stage('gpu-deps'), 'RUN')
      .map((r) => r.getRawArgumentsContent() ?? '')
      .join('\n');
    expect(gpuDeps).toContain('npm rebuild @tensorflow/tfjs-node-gpu');
    expect(stage('gpu-deps').image).toBe(stage('gpu').image);
  });

  it('gives the CPU image the OpenBLAS training matMul, built in a stage on the same Debian', () => {
    const native = stage('native');
    // Built against the CPU image's own glibc and OpenBLAS, or the addon would not load there.
    expect(native.image).toBe(stage('cpu').image);
    const build = of(native, 'RUN')
      .map((r) => r.getRawArgumentsContent() ?? '')
      .join('\n');
    expect(build).toMatch(/apt-get install[^\n]*libopenblas-dev/);
    expect(build).toContain('node native/build.mjs');
    const addon = path.relative(root, ADDON_FILE);
    expect(build).toContain(`test -f ${addon}`);
    const cpu = stage('cpu');
    const copies = of(cpu, 'COPY').map((copy) => [copyFrom(copy), ...args(copy)].join(' '));
    expect(copies).toContain(`native /app/${addon} ${addon}`);
    const runs = of(cpu, 'RUN')
      .map((r) => r.getRawArgumentsContent() ?? '')
      .join('\n');
    expect(runs).toMatch(/apt-get install[^\n]*libopenblas0/);
  });

  it('gives the CPU image what WebGPU needs on an NVIDIA GPU through Vulkan', () => {
    const cpu = stage('cpu');
    const runs = of(cpu, 'RUN')
      .map((r) => r.getRawArgumentsContent() ?? '')
      .join('\n');
    for (const library of ['libvulkan1', 'libx11-6', 'libxext6']) expect(runs).toContain(library);
    expect(envOf(cpu).NVIDIA_DRIVER_CAPABILITIES?.split(',')).toEqual(
      expect.arrayContaining(['compute', 'utility', 'graphics']),
    );
  });
});

describe('the versions documented in docs/docker.md', () => {
  const versions = documentedVersions();

  it('has the table', () => {
    for (const component of [
      'Node.js',
      'CPU base image',
      'GPU base image',
      '@tensorflow/tfjs-node-gpu',
      'libtensorflow',
      'CUDA',
      'cuDNN',
      'Ubuntu (GPU image)',
    ])
      expect(versions[component], component).toMatch(/\S/);
  });

  it('names the base images the Dockerfile uses', () => {
    expect(stage('cpu').image).toBe(versions['CPU base image']);
    expect(stage('deps').image).toBe(versions['CPU base image']);
    expect(stage('gpu').image).toBe(versions['GPU base image']);
  });

  it('pins the CUDA, cuDNN and Ubuntu of the GPU base image', () => {
    const tag = /^nvidia\/cuda:(\d+\.\d+\.\d+)-cudnn(\d+)-runtime-ubuntu(\d+\.\d+)$/.exec(stage('gpu').image);
    if (!tag) throw new Error(`unexpected GPU base image ${stage('gpu').image}`);
    const [, cuda, cudnnMajor, ubuntu] = tag;
    expect(versions.CUDA).toBe(cuda);
    expect(versions.cuDNN?.split('.')[0]).toBe(cudnnMajor);
    expect(versions['Ubuntu (GPU image)']).toBe(ubuntu);
  });

  it('matches the CUDA and cuDNN that libtensorflow was built against', () => {
    const tensorflow = versions.libtensorflow ?? '';
    const builtWith = TENSORFLOW_BUILT_WITH[tensorflow.split('.').slice(0, 2).join('.')];
    if (!builtWith) throw new Error(`no known CUDA/cuDNN for libtensorflow ${tensorflow}`);
    expect(versions.CUDA?.split('.').slice(0, 2).join('.')).toBe(builtWith.cuda);
    expect(versions.cuDNN?.split('.').slice(0, 2).join('.')).toBe(builtWith.cudnn);
  });

  it('matches the tfjs-node-gpu of the lock file and, where installed, its libtensorflow', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> };
    expect(lock.packages['node_modules/@tensorflow/tfjs-node-gpu']?.version).toBe(
      versions['@tensorflow/tfjs-node-gpu'],
    );
    // Present only where its install (which needs Google's storage) succeeded.
    const constants = path.join(root, 'node_modules/@tensorflow/tfjs-node-gpu/scripts/deps-constants.js');
    if (existsSync(constants))
      expect(readFileSync(constants, 'utf8')).toContain(
        `LIBTENSORFLOW_VERSION = '${versions.libtensorflow}'`,
      );
    const webgpu = lock.packages['node_modules/webgpu']?.version;
    expect(webgpu).toBe(versions['webgpu (Dawn)']);
  });

  it('runs the Node.js major version package.json asks for', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(new RegExp(`^>=${versions['Node.js']}\\.`));
    expect(stage('cpu').image).toMatch(new RegExp(`^node:${versions['Node.js']}-`));
  });
});
