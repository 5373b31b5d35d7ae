/**
 * A stand-in for the Hugging Face hub on loopback: the model info API, the resolve endpoint
 * (LFS files answer 302 to a CDN on another origin, with X-Linked-Etag = sha256) and a CDN with
 * Range support. Faults on demand: drop the connection after N bytes, corrupt a body, ignore Range.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  path: string;
  acceptEncoding: string | undefined;
  range: string | undefined;
  authorization: string | undefined;
}

interface Repo {
  sha: string;
  files: Map<string, Buffer>;
}

export interface Faults {
  /** File name -> bytes sent before the socket is destroyed, the first `times` it is served (default once). */
  dropAfter: Map<string, { bytes: number; times: number }>;
  /** Like dropAfter, but the connection stays open and silent instead of closing. */
  stallAfter: Map<string, { bytes: number; times: number }>;
  /** Files whose body has one byte flipped (the ETag still names the true sha256). */
  corrupt: Set<string>;
  /** Answer 200 with the whole file to a Range request. */
  ignoreRange: boolean;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const isLfs = (file: string) => file.endsWith('.safetensors');

export class FakeHub {
  readonly repos = new Map<string, Repo>();
  readonly log: LoggedRequest[] = [];
  readonly faults: Faults = {
    dropAfter: new Map(),
    stallAfter: new Map(),
    corrupt: new Set(),
    ignoreRange: false,
  };
  private hub!: Server;
  private cdn!: Server;
  url = '';
  cdnUrl = '';

  static async start(): Promise<FakeHub> {
    const fake = new FakeHub();
    fake.hub = createServer((req, res) => fake.handleHub(req, res));
    fake.cdn = createServer((req, res) => fake.handleCdn(req, res));
    fake.url = await listen(fake.hub);
    fake.cdnUrl = await listen(fake.cdn);
    return fake;
  }

  async stop(): Promise<void> {
    for (const server of [this.hub, this.cdn]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  /** Publishes the files of `dir` (top level) plus `extra` as `repo` at a commit derived from their contents. */
  async addRepo(
    repo: string,
    dir: string | undefined,
    extra: Record<string, string | Buffer> = {},
  ): Promise<Repo> {
    const files = new Map<string, Buffer>();
    if (dir) for (const name of await readdir(dir)) files.set(name, await readFile(path.join(dir, name)));
    for (const [name, data] of Object.entries(extra)) files.set(name, Buffer.from(data));
    const commit = createHash('sha1');
    for (const [name, data] of [...files].sort()) commit.update(name).update(data);
    const entry = { sha: commit.digest('hex'), files };
    this.repos.set(repo, entry);
    return entry;
  }

  private handleHub(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.record('hub', req, url);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) {
      this.info(res, api[1]!, decodeURIComponent(api[2]!), url.searchParams.has('blobs'));
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      this.resolve(req, res, resolve[1]!, decodeURIComponent(resolve[2]!), decodeURIComponent(resolve[3]!));
      return;
    }
    res.writeHead(404).end();
  }

  private revision(res: ServerResponse, name: string, revision: string): Repo | undefined {
    const repo = this.repos.get(name);
    if (!repo) {
      res.writeHead(401, { 'x-error-code': 'RepositoryNotFound' }).end('{"error":"Repository not found"}');
      return undefined;
    }
    if (revision !== 'main' && revision !== repo.sha) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('{"error":"Invalid rev id"}');
      return undefined;
    }
    return repo;
  }

  private info(res: ServerResponse, name: string, revision: string, blobs: boolean): void {
    const repo = this.revision(res, name, revision);
    if (!repo) return;
    const siblings = [...repo.files].map(([rfilename, data]) => ({
      rfilename,
      ...(blobs ? { size: data.length } : {}),
      ...(blobs && isLfs(rfilename) ? { lfs: { sha256: sha256(data), size: data.length } } : {}),
    }));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: name, sha: repo.sha, siblings }));
  }

  private resolve(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    revision: string,
    file: string,
  ): void {
    const repo = this.revision(res, name, revision);
    if (!repo) return;
    const data = repo.files.get(file);
    if (!data) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
      return;
    }
    if (isLfs(file)) {
      res
        .writeHead(302, {
          location: `${this.cdnUrl}/cdn/${encodeURIComponent(name)}/${repo.sha}/${encodeURIComponent(file)}`,
          'x-linked-etag': `"${sha256(data)}"`,
          'x-linked-size': String(data.length),
        })
        .end();
      return;
    }
    // Small files come straight from the hub, with a git blob id (sha1) as ETag.
    this.send(req, res, file, data, `"${createHash('sha1').update(data).digest('hex')}"`);
  }

  private handleCdn(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.cdnUrl);
    this.record('cdn', req, url);
    const match = /^\/cdn\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const repo = match && this.repos.get(decodeURIComponent(match[1]!));
    const file = match && decodeURIComponent(match[3]!);
    const data = file && repo && repo.sha === match[2] ? repo.files.get(file) : undefined;
    if (!data || !file) {
      res.writeHead(404).end();
      return;
    }
    this.send(req, res, file, data, `"${sha256(data)}"`);
  }

  private send(req: IncomingMessage, res: ServerResponse, file: string, data: Buffer, etag: string): void {
    let body = data;
    if (this.faults.corrupt.has(file)) {
      body = Buffer.from(data);
      body[body.length >> 1]! ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range && !this.faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': String(body.length - start),
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        etag,
      });
    } else {
      res.writeHead(200, { 'content-length': String(body.length), etag });
    }
    const stall = this.faults.stallAfter.get(file);
    if (stall && stall.times > 0) {
      stall.times--;
      res.write(body.subarray(start, start + stall.bytes));
      return;
    }
    const drop = this.faults.dropAfter.get(file);
    if (drop && drop.times > 0) {
      drop.times--;
      // The pause lets the client read the bytes before the reset, as it would over a real network.
      res.write(body.subarray(start, start + drop.bytes), () => setTimeout(() => res.socket?.destroy(), 100));
      return;
    }
    res.end(body.subarray(start));
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage, url: URL): void {
    this.log.push({
      server,
      path: decodeURIComponent(url.pathname),
      range: req.headers.range,
      acceptEncoding: req.headers['accept-encoding'],
      authorization: req.headers.authorization,
    });
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}
