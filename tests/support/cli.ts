import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const CLI = path.join(import.meta.dirname, '../../server/cli/parley.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A minimal environment for a child `parley`: nothing leaks in from the test runner's. */
export function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...vars };
}

/** Runs `parley ARGS`; `stdin`, when given, is written to its standard input and closed. */
export function runCli(args: string[], vars: Record<string, string>, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(vars) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin.end(stdin);
  });
}

/** Starts `parley serve` and resolves with its URL once the banner says it is listening. */
export function startServe(
  vars: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => CliResult }> {
  const child = spawn(process.execPath, [CLI, 'serve'], { env: cliEnv(vars) });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /Parley is running at (\S+)/.exec(stderr);
      if (match) resolve({ child, url: match[1]!, output: () => ({ code: child.exitCode, stdout, stderr }) });
    });
    child.on('exit', (code) =>
      reject(new Error(`parley serve exited with ${code} before listening:\n${stderr}`)),
    );
  });
}

export const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
