/** What the widget and console routes share: content-hashed assets, built once on first use. */
import { createHash } from 'node:crypto';

export interface HashedAsset {
  body: Buffer;
  /** A strong ETag: the content's hash, quoted. */
  etag: string;
  /** The first characters of the content hash, for `?v=` cache-busting URLs. */
  version: string;
}

export function hashedAsset(body: Buffer): HashedAsset {
  const hash = createHash('sha256').update(body).digest('base64url');
  return { body, etag: `"${hash}"`, version: hash.slice(0, 16) };
}

/** Runs `build` on the first call and shares its result; a failed build is tried again next call. */
export function buildOnce<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | null = null;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = null;
      throw error;
    });
    return built;
  };
}
