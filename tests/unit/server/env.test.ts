import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEnv, EnvError, loadEnv } from '../../../server/env.js';

function problemsOf(source: Record<string, string>): string[] {
  try {
    loadEnv(source, '/srv');
  } catch (error) {
    if (error instanceof EnvError) return error.problems.map((p) => p.variable);
    throw error;
  }
  return [];
}

describe('loadEnv', () => {
  it('applies the documented defaults to an empty environment', () => {
    const env = loadEnv({}, '/srv');
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      HOST: '127.0.0.1',
      PARLEY_DATA_DIR: '/srv/data',
      LOG_LEVEL: 'info',
      TFJS_BACKEND: 'auto',
      PARLEY_DEMO: true,
      PARLEY_EMBEDDED_DB_PORT: 0,
      PARLEY_ARTIFACT_STORE: '/srv/data',
      PARLEY_LOCAL_WORKER: true,
      PARLEY_WORKER_LEASE_MS: 60_000,
      PARLEY_WORKER_MAX_ATTEMPTS: 3,
    });
    expect(env.MONGODB_URI).toBeUndefined();
    expect(env.SESSION_SECRET).toBeUndefined();
  });

  it('ignores variables it does not know', () => {
    expect(loadEnv({ PATH: '/bin', HOME: '/root' }, '/srv')).not.toHaveProperty('PATH');
  });

  it.each([
    ['PORT', '8080', 8080],
    ['PORT', '0', 0],
    ['MONGODB_URI', 'mongodb://user:pw@db.example:27017/parley', 'mongodb://user:pw@db.example:27017/parley'],
    ['MONGODB_URI', 'mongodb+srv://cluster0.example.net/parley', 'mongodb+srv://cluster0.example.net/parley'],
    ['TFJS_BACKEND', 'wasm', 'wasm'],
    ['TFJS_BACKEND', 'node-gpu', 'node-gpu'],
    ['LOG_LEVEL', 'debug', 'debug'],
    ['PARLEY_DATA_DIR', '/var/lib/parley', '/var/lib/parley'],
    ['PARLEY_DATA_DIR', 'rel/dir', '/srv/rel/dir'],
    ['PARLEY_DEMO', 'off', false],
    ['PARLEY_DEMO', 'yes', true],
    ['PARLEY_SNAPSHOT_INTERVAL_MS', '2500', 2500],
    ['HF_ENDPOINT', 'http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['REDIS_URL', 'redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['REDIS_URL', 'rediss://:pw@cache.example:6380/2', 'rediss://:pw@cache.example:6380/2'],
    ['PARLEY_ARTIFACT_STORE', '/mnt/parley', '/mnt/parley'],
    ['PARLEY_ARTIFACT_STORE', 'shared', '/srv/shared'],
    ['PARLEY_ARTIFACT_STORE', 's3://bucket/parley', 's3://bucket/parley'],
    ['PARLEY_LOCAL_WORKER', 'false', false],
    ['PARLEY_WORKER_LEASE_MS', '1500', 1500],
    ['PARLEY_WORKER_MAX_ATTEMPTS', '5', 5],
    ['PARLEY_JOB_POLL_MS', '250', 250],
  ])('accepts %s=%s', (variable, value, expected) => {
    expect(loadEnv({ [variable]: value }, '/srv')[variable as keyof ReturnType<typeof loadEnv>]).toEqual(
      expected,
    );
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['MONGODB_URI', 'http://db.example'],
    ['MONGODB_URI', 'localhost:27017'],
    ['SESSION_SECRET', 'too-short'],
    ['LOG_LEVEL', 'loud'],
    ['TFJS_BACKEND', 'gpu'],
    ['NODE_ENV', 'staging'],
    ['PARLEY_DEMO', 'maybe'],
    ['PARLEY_SNAPSHOT_INTERVAL_MS', '10'],
    ['PARLEY_EMBEDDED_DB_PORT', 'x'],
    ['HF_ENDPOINT', 'huggingface.co'],
    ['HF_ENDPOINT', 'ftp://mirror.example'],
    ['REDIS_URL', 'http://cache.example'],
    ['REDIS_URL', 'cache.example:6379'],
    ['PARLEY_LOCAL_WORKER', 'sometimes'],
    ['PARLEY_WORKER_LEASE_MS', '100'],
    ['PARLEY_WORKER_MAX_ATTEMPTS', '0'],
    ['PARLEY_JOB_POLL_MS', '1.5'],
  ])('rejects %s=%s and names the variable', (variable, value) => {
    expect(problemsOf({ [variable]: value })).toEqual([variable]);
  });

  it('lists every bad variable at once, not just the first', () => {
    expect(problemsOf({ PORT: 'abc', LOG_LEVEL: 'loud', TFJS_BACKEND: 'gpu' }).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'TFJS_BACKEND',
    ]);
  });

  it('says what is wrong without echoing secret values', () => {
    const secret = 'short-secret-value';
    const error = (() => {
      try {
        loadEnv({ SESSION_SECRET: secret });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected loadEnv to throw');
    })();
    expect(error.message).toContain('SESSION_SECRET');
    expect(error.message).not.toContain(secret);
  });

  it('treats empty values as unset', () => {
    const env = loadEnv({ PORT: '', MONGODB_URI: '  ' }, '/srv');
    expect(env.PORT).toBe(3000);
    expect(env.MONGODB_URI).toBeUndefined();
  });

  it.each([
    [{}, true],
    [{ NODE_ENV: 'production' }, false],
    [{ MONGODB_URI: 'mongodb://db.example/parley' }, false],
    [{ NODE_ENV: 'production', PARLEY_DEMO: 'true' }, true],
  ])('defaults PARLEY_DEMO from the mode: %j -> %s', (source, expected) => {
    expect(loadEnv(source as Record<string, string>, '/srv').PARLEY_DEMO).toBe(expected);
  });
});

describe('describeEnv', () => {
  it('documents every variable with a description', () => {
    for (const variable of describeEnv())
      expect(variable.description.length, variable.variable).toBeGreaterThan(10);
  });

  it('matches the README configuration table', async () => {
    const readme = await readFile(path.join(import.meta.dirname, '../../../README.md'), 'utf8');
    for (const { variable } of describeEnv())
      expect(readme, `README lacks ${variable}`).toContain(`\`${variable}\``);
  });
});
