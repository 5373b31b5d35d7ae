/** A console API client for tests: keeps the session cookie and the CSRF token like the browser does. */
import { CSRF_HEADER, type SessionInfo } from '../../server/realtime/agent/protocol.js';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export class ApiClient {
  private cookie: string | null = null;
  csrfToken: string | null = null;

  constructor(private readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && options.csrf !== false && this.csrfToken) headers[CSRF_HEADER] = this.csrfToken;
    const response = await fetch(`${this.baseUrl}/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  /** Fetches the session (and its CSRF token). */
  async session(): Promise<SessionInfo> {
    const { body } = await this.request<SessionInfo>('GET', '/auth/session');
    this.csrfToken = body.csrfToken;
    return body;
  }

  async login(email: string, password: string): Promise<ApiResponse<SessionInfo>> {
    if (!this.csrfToken) await this.session();
    const response = await this.request<SessionInfo>('POST', '/auth/login', { email, password });
    if (response.status === 200) this.csrfToken = response.body.csrfToken;
    return response;
  }

  get sessionCookie(): string | null {
    return this.cookie;
  }
}
