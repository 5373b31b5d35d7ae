/**
 * Anonymization of whole batches, off the ingestion loop's critical path: jobs go to a worker
 * thread (or run in this thread), one job per conversation, in order. Pseudonym states of the
 * conversations a run has seen stay with the anonymizer, so consecutive batches of one
 * conversation continue its numbering even while an earlier batch is still being written.
 */

import { LRUCache } from 'lru-cache';
import type { Anonymizer, ConversationAnonymizer, PiiReport, PseudonymState } from '../privacy/pii/index.js';
import type { Role } from './mapping.js';

export interface ConversationJob {
  key: string;
  /** The stored state of a conversation this anonymizer has not seen in this run. */
  state?: PseudonymState | null;
  turns: { text: string; role: Role }[];
  /** Metadata to anonymize (new conversations only). */
  meta?: Record<string, unknown> | null;
}

export interface ConversationResult {
  key: string;
  texts: string[];
  meta: unknown;
  state: PseudonymState;
  report: PiiReport;
}

export interface BatchAnonymizer {
  /** `scope` names the run: states carry over between batches of one scope, never across scopes. */
  anonymize(jobs: ConversationJob[], scope: string): Promise<ConversationResult[]>;
  close(): Promise<void>;
}

const CACHE_LIMIT = 50_000;

function subtract(after: PiiReport, before: PiiReport): PiiReport {
  const delta = (a: Record<string, number | undefined>, b: Record<string, number | undefined>) =>
    Object.fromEntries(
      Object.entries(a)
        .map(([k, n]) => [k, (n ?? 0) - (b[k] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
  return {
    entities: delta(after.entities, before.entities),
    operators: delta(after.operators, before.operators),
  };
}

/**
 * The job runner both the worker and the in-thread anonymizer use. Within a scope it keeps each
 * conversation's anonymizer alive, not just its state: the previous turn is context too (a bare
 * name replying to "could I get your name?"), also when that turn ended the previous batch.
 */
export function createJobRunner(
  anonymizer: Anonymizer,
): (jobs: ConversationJob[], scope: string) => ConversationResult[] {
  const live = new LRUCache<string, { scrubber: ConversationAnonymizer; reported: PiiReport }>({
    max: CACHE_LIMIT,
  });
  let currentScope: string | null = null;
  return (jobs, scope) => {
    if (scope !== currentScope) {
      live.clear();
      currentScope = scope;
    }
    return jobs.map((job) => {
      let entry = job.state === undefined || job.state === null ? live.get(job.key) : undefined;
      if (!entry)
        entry = {
          scrubber: anonymizer.conversation(job.state ?? undefined),
          reported: { entities: {}, operators: {} },
        };
      const { scrubber } = entry;
      const texts = job.turns.map((turn) => scrubber.anonymizeText(turn.text, { role: turn.role }).text);
      const meta = job.meta ? scrubber.anonymizeValue(job.meta) : null;
      const total = scrubber.report();
      const report = subtract(total, entry.reported);
      live.set(job.key, { scrubber, reported: total });
      return { key: job.key, texts, meta, state: scrubber.state(), report };
    });
  };
}

export function inThreadAnonymizer(anonymizer: Anonymizer): BatchAnonymizer {
  const run = createJobRunner(anonymizer);
  return { anonymize: async (jobs, scope) => run(jobs, scope), close: async () => undefined };
}
