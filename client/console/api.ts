/**
 * The console's REST client: JSON over fetch, the session cookie for identity, the CSRF token on
 * every POST, PUT, PATCH and DELETE. Errors are ApiError with the server's id and readable message
 * (or a readable one of our own when the server could not be reached or did not answer in JSON).
 */
import {
  type ConsoleMessage,
  type ConversationDetail,
  type ConversationSummary,
  CSRF_HEADER,
  type LoginRequest,
  type RateRequest,
  type ReviewItem,
  type SessionInfo,
} from '../../server/realtime/agent/protocol.js';
import type { ConversationMode } from '../../server/realtime/widget/protocol.js';

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when no answer came back. */
    readonly status: number,
    /** The server's error id (`unauthorized`, `forbidden`, ...), or `network` / `bad_response`. */
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const NETWORK_MESSAGE = 'Could not reach Parley. Check your connection and try again.';

export interface ConversationQuery {
  mode?: ConversationMode | null;
  q?: string;
  limit?: number;
}

export type ReviewOrder = 'newest' | 'confidence';

export interface ApiClient {
  session(): Promise<SessionInfo>;
  login(credentials: LoginRequest): Promise<SessionInfo>;
  logout(): Promise<void>;
  conversations(query?: ConversationQuery): Promise<ConversationSummary[]>;
  conversation(id: string): Promise<ConversationDetail>;
  takeOver(id: string): Promise<ConversationDetail>;
  handBack(id: string): Promise<ConversationDetail>;
  sendMessage(id: string, text: string, clientMessageId: string): Promise<ConsoleMessage>;
  rate(conversationId: string, messageId: string, rating: RateRequest): Promise<ConsoleMessage>;
  reviewQueue(order: ReviewOrder, limit?: number): Promise<ReviewItem[]>;
  /** Any other endpoint under /api (the admin pages build on it: admin-api.ts). */
  request<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T>;
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Prefix of every path ('' for the page's own origin). */
  base?: string;
  /** Called when a request other than login answers 401: the session ended. */
  onUnauthorized?: () => void;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.base ?? '';
  let csrfToken: string | null = null;

  async function raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (UNSAFE.has(method) && csrfToken) headers[CSRF_HEADER] = csrfToken;
    try {
      return await doFetch(`${base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', NETWORK_MESSAGE);
    }
  }

  async function parse<T>(response: Response): Promise<T> {
    let payload: unknown = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try {
        payload = JSON.parse(text);
      } catch {
        payload = null;
      }
    }
    if (response.ok) {
      if (payload === null && text) {
        throw new ApiError(
          response.status,
          'bad_response',
          'Parley answered in a form the console cannot read.',
        );
      }
      return payload as T;
    }
    const failure = payload as { error?: unknown; message?: unknown } | null;
    const error = typeof failure?.error === 'string' ? failure.error : `http_${response.status}`;
    const message =
      typeof failure?.message === 'string' && failure.message
        ? failure.message
        : `Parley answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
    throw new ApiError(response.status, error, message);
  }

  async function refreshSession(): Promise<SessionInfo> {
    const info = await parse<SessionInfo>(await raw('GET', '/api/auth/session'));
    csrfToken = info.csrfToken;
    return info;
  }

  /** A request; an unsafe one fetches the CSRF token first if none is known, and once more if refused for it. */
  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    { reportUnauthorized = true } = {},
  ): Promise<T> {
    if (UNSAFE.has(method) && !csrfToken) await refreshSession();
    let response = await raw(method, path, body);
    if (response.status === 403 && UNSAFE.has(method)) {
      const clone = response.clone();
      const failure = (await clone.json().catch(() => null)) as { error?: unknown } | null;
      if (typeof failure?.error === 'string' && /csrf/i.test(failure.error)) {
        await refreshSession();
        response = await raw(method, path, body);
      }
    }
    if (response.status === 401 && reportUnauthorized) options.onUnauthorized?.();
    return parse<T>(response);
  }

  const conversationPath = (id: string) => `/api/conversations/${encodeURIComponent(id)}`;

  return {
    session: refreshSession,
    async login(credentials) {
      await request<SessionInfo>('POST', '/api/auth/login', credentials, { reportUnauthorized: false });
      // The token changes at login: read the new one (and the user) from the session.
      return refreshSession();
    },
    async logout() {
      await request<unknown>('POST', '/api/auth/logout', {}, { reportUnauthorized: false });
      csrfToken = null;
    },
    async conversations(query = {}) {
      const params = new URLSearchParams();
      if (query.mode) params.set('mode', query.mode);
      if (query.q?.trim()) params.set('q', query.q.trim());
      if (query.limit) params.set('limit', String(query.limit));
      const search = params.toString();
      const result = await request<{ conversations: ConversationSummary[] }>(
        'GET',
        `/api/conversations${search ? `?${search}` : ''}`,
      );
      return result.conversations;
    },
    conversation: (id) => request<ConversationDetail>('GET', conversationPath(id)),
    takeOver: (id) => request<ConversationDetail>('POST', `${conversationPath(id)}/take-over`, {}),
    handBack: (id) => request<ConversationDetail>('POST', `${conversationPath(id)}/hand-back`, {}),
    async sendMessage(id, text, clientMessageId) {
      const result = await request<{ message: ConsoleMessage }>('POST', `${conversationPath(id)}/messages`, {
        text,
        clientMessageId,
      });
      return result.message;
    },
    async rate(conversationId, messageId, rating) {
      const result = await request<{ message: ConsoleMessage }>(
        'PUT',
        `${conversationPath(conversationId)}/messages/${encodeURIComponent(messageId)}/rating`,
        rating,
      );
      return result.message;
    },
    async reviewQueue(order, limit = 50) {
      const result = await request<{ items: ReviewItem[] }>(
        'GET',
        `/api/review-queue?order=${order}&limit=${limit}`,
      );
      return result.items;
    },
    request: (method, path, body) => request(method, path, body),
  };
}

/** A readable sentence for any error a console action can meet. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}
