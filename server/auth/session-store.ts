import { createHash } from 'node:crypto';
import session from 'express-session';
import { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';

const DEFAULT_TTL_MS = 14 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 15 * 60 * 1000;

/** Session ids never reach the database: `_id` is derived from a hash of the id. */
export const sessionObjectId = (sid: string) =>
  new ObjectId(createHash('sha256').update(`session:${sid}`).digest().subarray(0, 12));

function expiryOf(data: session.SessionData): Date {
  const expires = data.cookie?.expires;
  return expires ? new Date(expires) : new Date(Date.now() + DEFAULT_TTL_MS);
}

type Callback<T = void> = (error?: unknown, value?: T) => void;

/**
 * express-session store on the `sessions` collection. connect-mongo keys documents by the raw
 * session id, a string `_id` the embedded server rejects; this one works on both.
 */
export class MongoSessionStore extends session.Store {
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly models: Pick<Models, 'Session'>) {
    super();
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.models.Session.findById(sessionObjectId(sid))
      .lean()
      .then((doc) =>
        callback(null, doc && doc.expiresAt > new Date() ? (doc.data as session.SessionData) : null),
      )
      .catch(callback);
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.models.Session.updateOne(
      { _id: sessionObjectId(sid) },
      { $set: { data: JSON.parse(JSON.stringify(data)), expiresAt: expiryOf(data) } },
      { upsert: true },
    )
      .then(() => callback?.())
      .catch((error: unknown) => callback?.(error));
  }

  override destroy(sid: string, callback?: Callback): void {
    this.models.Session.deleteOne({ _id: sessionObjectId(sid) })
      .then(() => callback?.())
      .catch((error: unknown) => callback?.(error));
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.models.Session.updateOne({ _id: sessionObjectId(sid) }, { $set: { expiresAt: expiryOf(data) } })
      .then(() => callback?.())
      .catch((error: unknown) => callback?.(error));
  }

  /** Deletes expired sessions (real MongoDB's TTL index does this too; the embedded one does not). */
  async prune(now = new Date()): Promise<number> {
    const result = await this.models.Session.deleteMany({ expiresAt: { $lte: now } });
    return result.deletedCount;
  }

  close(): void {
    clearInterval(this.pruneTimer);
  }
}
