/**
 * The console's API, shared by the server and the console app (client/console): REST payloads
 * under /api and the Socket.IO namespace `/agent` for live inbox updates. Types and constants only;
 * server modules are imported for their types alone (erased from the console bundle).
 *
 * Auth: POST /api/auth/login sets an httpOnly session cookie. Every POST, PUT, PATCH and DELETE
 * under /api (login included) carries the CSRF token in the `X-CSRF-Token` header: GET
 * /api/auth/session returns it (before and after login; it changes at login). Errors are
 * `{ ok: false, error, message }` with 400 (bad input: invalid_json, invalid_unicode for a lone
 * surrogate, bad_path for a path value over 200 characters, or the endpoint's own id), 401 (not
 * signed in), 403 (wrong role or bad CSRF token), 404, 409, 413 (body_too_large: over 64 KB),
 * 415 (unsupported_charset: bodies are UTF-8 JSON) or 429 (too many attempts).
 */
import type { IngestProgress } from '../../ingest/progress.js';
import type { ProgressEvent } from '../../train/work-order.js';
import type { ConversationMode, HandoffReason, WidgetRole } from '../widget/protocol.js';

export const AGENT_NAMESPACE = '/agent';
export const CSRF_HEADER = 'x-csrf-token';

export type StaffRole = 'admin' | 'agent';

export interface StaffUser {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
}

/** GET /api/auth/session */
export interface SessionInfo {
  user: StaffUser | null;
  csrfToken: string;
}

/** POST /api/auth/login body; answers SessionInfo (with the new CSRF token). */
export interface LoginRequest {
  email: string;
  password: string;
}

export const RATING_REASONS = [
  'wrong',
  'unhelpful',
  'rude',
  'off-topic',
  'made-up',
  'too-long',
  'other',
] as const;
export type RatingReason = (typeof RATING_REASONS)[number];

export interface Rating {
  value: 'up' | 'down' | 'corrected';
  reasons: RatingReason[];
  correction: string | null;
  by: { id: string; name: string };
  at: string;
}

export interface ConsoleMessage {
  id: string;
  role: WidgetRole;
  text: string;
  ts: string;
  /** Bot replies: the registry version that wrote it and how sure it was. */
  modelVersion: string | null;
  confidence: number | null;
  authorName: string | null;
  rating: Rating | null;
}

export interface ConversationSummary {
  id: string;
  site: string | null;
  channel: string;
  mode: ConversationMode;
  handoffReason: HandoffReason | null;
  startedAt: string;
  lastMessageAt: string;
  /** The newest message's first 140 characters. */
  preview: string;
  messageCount: number;
  /** Bot replies not rated yet. */
  unratedBotReplies: number;
}

export interface ConversationDetail extends ConversationSummary {
  messages: ConsoleMessage[];
  /**
   * What the visitor told us about themselves (Parley.identify) and an email they left to be
   * answered at; personal data, shown to staff only and never trained on.
   */
  contact: { name: string | null; email: string | null; leftEmail: string | null } | null;
}

/**
 * GET /api/conversations?mode=waiting|bot|human|closed&q=text&limit=50 -> { conversations }:
 * waiting first, then human, bot, closed; newest first within each.
 * GET /api/conversations/:id -> ConversationDetail
 * POST /api/conversations/:id/take-over, /hand-back, /close -> ConversationDetail
 * POST /api/conversations/:id/messages { text, clientMessageId } -> { message: ConsoleMessage }
 * PUT /api/conversations/:id/messages/:messageId/rating RateRequest -> { message: ConsoleMessage }
 * GET /api/review-queue?order=newest|confidence&limit=50 -> { items: ReviewItem[] }
 */
export interface RateRequest {
  value: 'up' | 'down' | 'corrected';
  reasons?: RatingReason[];
  /** Required with "corrected": the reply the bot should have given. */
  correction?: string;
}

export interface ReviewItem {
  conversationId: string;
  /** The bot reply to rate, and what the visitor said just before it. */
  message: ConsoleMessage;
  context: ConsoleMessage[];
}

/** Progress of an ingestion an admin started (POST /api/sources/:name/ingest). */
export type IngestProgressEvent = IngestProgress & { source: string };

export interface IngestDoneEvent {
  source: string;
  /** `parley ingest --json`'s summary; null when the run failed. */
  summary: {
    runId: string;
    status: 'succeeded' | 'cancelled';
    read: number;
    conversations: number;
    messages: number;
    quarantined: number;
    durationMs: number;
    pii: { entities: Record<string, number>; operators: Record<string, number> };
  } | null;
  error: string | null;
}

export interface DatasetDoneEvent {
  datasetId: string | null;
  name: string | null;
  status: string;
  error: string | null;
}

/** One training step of a job (POST /api/training-jobs); `epsilon` is null without DP. */
export type TrainingProgressEvent = ProgressEvent & { jobId: string };

export interface TrainingLogEvent {
  jobId: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  time: string;
}

export interface TrainingDoneEvent {
  jobId: string | null;
  status: 'succeeded' | 'cancelled' | 'failed';
  /** The registered version (a candidate: compare and promote it). */
  version: string | null;
  error: string | null;
}

/**
 * Admin REST endpoints that start work (answer 202 at once; the events below follow):
 * POST /api/sources/:name/ingest -> { source }
 * POST /api/datasets { sources: string[], since?: ISO date, until?: ISO date, validationPercent?: 0-50 } -> { started: true }
 * POST /api/training-jobs TrainingRequest -> { jobId }
 * GET /api/training-jobs/:id -> the job, with `metrics` (per step: step, loss, validationLoss, ...) and `events`
 */
export interface TrainingRequest {
  datasetId: string;
  mode?: 'lora' | 'full';
  /** Defaults: the same as `parley train`. */
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  loraRank?: number;
  seed?: number;
  dp?: { targetEpsilon: number; delta?: number; unit?: 'example' | 'customer'; maxGradNorm?: number } | null;
}

export const TRAINING_DEFAULTS = {
  mode: 'lora',
  epochs: 3,
  learningRate: 2e-4,
  batchSize: 8,
  loraRank: 8,
  seed: 1,
  maxGradNorm: 1,
  delta: 1e-5,
} as const;

/** Server -> console events on `/agent` (after sign-in; the session cookie authenticates). */
export interface AgentServerToClient {
  /** A conversation changed (new message, mode): refresh its row. */
  'conversation:updated': (summary: ConversationSummary) => void;
  /** A new message in a conversation the console watches (conversation:watch). */
  message: (event: { conversationId: string; message: ConsoleMessage }) => void;
  /** The bot is streaming a reply in a watched conversation. */
  'reply:token': (event: { conversationId: string; replyId: string; delta: string }) => void;
  /** The streamed reply ended; `stored` is false when nothing was kept (stopped by a take-over, or failed). */
  'reply:end': (event: { conversationId: string; replyId: string; stored: boolean }) => void;
  /** Agents online changed. */
  presence: (event: { agentsOnline: number }) => void;
  /** Admins only: long work started from the console. */
  'ingest:progress': (event: IngestProgressEvent) => void;
  'ingest:done': (event: IngestDoneEvent) => void;
  'dataset:done': (event: DatasetDoneEvent) => void;
  'training:progress': (event: TrainingProgressEvent) => void;
  'training:event': (event: TrainingLogEvent) => void;
  'training:done': (event: TrainingDoneEvent) => void;
}

export type AgentAck<T extends object = object> =
  | ({ ok: true } & T)
  | { ok: false; error: string; message: string };

export interface AgentClientToServer {
  /** Receive message and reply:token events of one conversation (one at a time per socket). */
  'conversation:watch': (payload: { conversationId: string | null }, ack: (result: AgentAck) => void) => void;
}
