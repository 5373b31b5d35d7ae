/**
 * Anonymization of whole batches, off the ingestion loop's critical path: jobs go to a worker
 * thread (or run in this thread), one job per conversation, in order. Pseudonym states of the
 * conversations a run has seen stay with the anonymizer, so consecutive batches of one
 * conversation continue its numbering even while an earlier batch is still being written.
 */

import type { Anonymizer, PiiReport, PseudonymState } from '../privacy/pii/index.js';
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

const STATE_CACHE_LIMIT = 50_000;

/** The job runner both the worker and the in-thread anonymizer use. */
export function createJobRunner(
  anonymizer: Anonymizer,
): (jobs: ConversationJob[], scope: string) => ConversationResult[] {
  const states = new Map<string, PseudonymState>();
  let currentScope: string | null = null;
  return (jobs, scope) => {
    if (scope !== currentScope) {
      states.clear();
      currentScope = scope;
    }
    return jobs.map((job) => {
      const scrubber = anonymizer.conversation(job.state ?? states.get(job.key) ?? undefined);
      const texts = job.turns.map((turn) => scrubber.anonymizeText(turn.text, { role: turn.role }).text);
      const meta = job.meta ? scrubber.anonymizeValue(job.meta) : null;
      const state = scrubber.state();
      states.delete(job.key);
      states.set(job.key, state);
      if (states.size > STATE_CACHE_LIMIT) states.delete(states.keys().next().value!);
      return { key: job.key, texts, meta, state, report: scrubber.report() };
    });
  };
}

export function inThreadAnonymizer(anonymizer: Anonymizer): BatchAnonymizer {
  const run = createJobRunner(anonymizer);
  return { anonymize: async (jobs, scope) => run(jobs, scope), close: async () => undefined };
}
