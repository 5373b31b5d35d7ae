/** Every stored document as text, to show that a refused request changed nothing. */
import { BSON } from 'mongodb';
import type { Models } from '../../server/db/models/index.js';

/** Sessions change on every request (cookie expiry); everything else must stay put. */
const VOLATILE: readonly (keyof Models)[] = ['Session'];

export type StateSnapshot = Record<string, string[]>;

export async function snapshotState(models: Models): Promise<StateSnapshot> {
  const snapshot: StateSnapshot = {};
  for (const [name, model] of Object.entries(models) as [keyof Models, Models[keyof Models]][]) {
    if (VOLATILE.includes(name)) continue;
    const documents = await (model as unknown as { find(q: object): { lean(): Promise<unknown[]> } })
      .find({})
      .lean();
    snapshot[name] = documents.map((d) => BSON.EJSON.stringify(d, { relaxed: false })).sort();
  }
  return snapshot;
}

/** Names each collection whose documents differ, with the documents added and removed. */
export function stateChanges(before: StateSnapshot, after: StateSnapshot): string[] {
  const changes: string[] = [];
  for (const name of Object.keys(after)) {
    const was = new Set(before[name] ?? []);
    const now = new Set(after[name]);
    const added = [...now].filter((d) => !was.has(d));
    const removed = [...was].filter((d) => !now.has(d));
    if (added.length || removed.length)
      changes.push(`${name}: +${added.join(' +')} -${removed.join(' -')}`.slice(0, 600));
  }
  return changes;
}
