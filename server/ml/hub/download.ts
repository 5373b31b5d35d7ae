/**
 * One file from the hub's resolve endpoint into `<dest>.part`, renamed to `<dest>` once its size
 * and (for LFS files) sha256 check out. A `.part` left by a dropped connection or an earlier run
 * is continued with a Range request; a server that ignores the range (200) restarts it.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { authHeaders, causeOf, type HubRequest } from './api.js';
import { HubError } from './repo.js';

export interface DownloadOptions {
  hub: HubRequest;
  url: string;
  dest: string;
  /** Expected size and sha256 from the file listing, used when the response headers lack them. */
  size?: number;
  sha256?: string;
  /** Further attempts after a dropped connection, each resuming where the last stopped. */
  retries?: number;
  /** A connection that sends nothing for this long counts as dropped (default 60 s). */
  idleTimeoutMs?: number;
  /** Called with the number of new bytes as they arrive (negative when a restart discards some). */
  onBytes?: (delta: number) => void;
}

export interface Downloaded {
  bytes: number;
  sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_REDIRECTS = 5;

export async function downloadFile(options: DownloadOptions): Promise<Downloaded> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptDownload(options);
    } catch (error) {
      if (!(error instanceof DroppedError) || attempt >= retries) throw unwrap(error);
    }
  }
}

/** A transfer that stopped early: worth resuming. Anything else is final. */
class DroppedError extends Error {}

const unwrap = (error: unknown) =>
  error instanceof DroppedError ? new HubError(`${error.message}; run the command again to resume`) : error;

async function attemptDownload(options: DownloadOptions): Promise<Downloaded> {
  const watchdog = new IdleWatchdog(options.idleTimeoutMs ?? 60_000);
  try {
    return await transfer(options, watchdog);
  } finally {
    watchdog.clear();
  }
}

/** Aborts a request that goes quiet: a stalled CDN connection would otherwise hang the pull forever. */
class IdleWatchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal = this.controller.signal;

  constructor(private readonly ms: number) {}

  /** Starts the clock, or restarts it when data arrives. */
  touch(): void {
    if (this.timer) this.timer.refresh();
    else
      this.timer = setTimeout(
        () => this.controller.abort(new Error(`no data for ${this.ms / 1000} s`)),
        this.ms,
      );
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

async function transfer(options: DownloadOptions, watchdog: IdleWatchdog): Promise<Downloaded> {
  const part = `${options.dest}.part`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  // Hashed before the request: a large part takes a while, and an unread response would sit idle.
  const partHash = createHash('sha256');
  if (have > 0) await hashFile(part, partHash);
  watchdog.touch();
  const { response, linkedEtag } = await get(options, have, watchdog.signal);
  const name = path.basename(options.dest);

  if (response.status === 416 && have > 0) {
    // The .part is as long as the file or longer: start over rather than trust it.
    await response.body?.cancel();
    await rm(part, { force: true });
    options.onBytes?.(-have);
    return attemptDownload(options);
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new HubError(`downloading ${name}: ${response.status} ${response.statusText} from ${response.url}`);
  }

  let offset = 0;
  let total: number | undefined;
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await response.body?.cancel();
      throw new HubError(
        `downloading ${name}: the server answered the range ${have}- with ${range?.[0] ?? 'no Content-Range'}`,
      );
    }
    offset = have;
    total = Number(range[2]);
  } else {
    if (have > 0) options.onBytes?.(-have);
    const length = response.headers.get('content-length');
    // A compressed body's Content-Length counts compressed bytes, not the file's.
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (length !== null && !encoded) total = Number(length);
  }
  total ??= options.size;
  const expectedSha = shaOf(linkedEtag) ?? shaOf(response.headers.get('etag')) ?? shaOf(options.sha256);

  const hash = offset > 0 ? partHash : createHash('sha256');
  const file = await open(part, offset > 0 ? 'a' : 'w');
  let written = offset;
  try {
    if (response.body) {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          watchdog.touch();
          await file.write(chunk);
          hash.update(chunk);
          written += chunk.byteLength;
          options.onBytes?.(chunk.byteLength);
        }
      } catch (error) {
        throw new DroppedError(
          `downloading ${name}: connection lost after ${written} of ${total ?? '?'} bytes (${causeOf(error)})`,
        );
      }
    }
  } finally {
    await file.close();
  }
  if (total !== undefined && written < total) {
    throw new DroppedError(`downloading ${name}: connection lost after ${written} of ${total} bytes`);
  }
  if (total !== undefined && written !== total) {
    await rm(part, { force: true });
    throw new HubError(`downloading ${name}: got ${written} bytes, expected ${total}; discarded`);
  }
  const sha256 = hash.digest('hex');
  if (expectedSha !== undefined && sha256 !== expectedSha) {
    // A corrupt .part cannot be resumed into a good file: drop it so the next run starts clean.
    await rm(part, { force: true });
    throw new HubError(
      `downloading ${name}: sha256 ${sha256} does not match the hub's ${expectedSha}; discarded`,
    );
  }
  await rename(part, options.dest);
  return { bytes: written, sha256 };
}

/** GET with redirects followed by hand: the hub's 302 carries the LFS sha256 (X-Linked-Etag), the CDN's answer does not. */
async function get(
  options: DownloadOptions,
  from: number,
  signal: AbortSignal,
): Promise<{ response: Response; linkedEtag: string | null }> {
  let url = new URL(options.url);
  const hubOrigin = url.origin;
  let linkedEtag: string | null = null;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = {
      // The token is for the hub only, never for the CDN it redirects to.
      ...(url.origin === hubOrigin ? authHeaders(options.hub.token) : {}),
      ...(from > 0 ? { range: `bytes=${from}-` } : {}),
      // Ranges and sizes are of the file itself, as stored.
      'accept-encoding': 'identity',
    };
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'manual', signal });
    } catch (error) {
      throw new DroppedError(
        `downloading ${path.basename(options.dest)}: cannot reach ${url.origin}: ${causeOf(error)}`,
      );
    }
    linkedEtag ??= response.headers.get('x-linked-etag');
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    return { response, linkedEtag };
  }
  throw new HubError(
    `downloading ${path.basename(options.dest)}: more than ${MAX_REDIRECTS} redirects from ${options.url}`,
  );
}

function shaOf(etag: string | null | undefined): string | undefined {
  const value = etag?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
  return value && SHA256.test(value) ? value : undefined;
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}
