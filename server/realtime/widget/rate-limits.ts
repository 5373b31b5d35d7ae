/**
 * Abuse limits for the widget, per process (with several chat servers each enforces its own):
 * connections per IP, messages per visitor and per IP. A burst from one IP that shares many
 * visitors (an office behind NAT) gets a larger allowance than one visitor.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface WidgetLimits {
  messagesPerMinute: number;
  connectionsPerMinute: number;
}

/** How many visitors' worth of messages one IP may send. */
const IP_MESSAGE_SHARE = 5;

export class WidgetRateLimits {
  private readonly connections: RateLimiterMemory;
  private readonly visitorMessages: RateLimiterMemory;
  private readonly ipMessages: RateLimiterMemory;

  constructor(limits: WidgetLimits) {
    this.connections = new RateLimiterMemory({ points: limits.connectionsPerMinute, duration: 60 });
    this.visitorMessages = new RateLimiterMemory({ points: limits.messagesPerMinute, duration: 60 });
    this.ipMessages = new RateLimiterMemory({
      points: limits.messagesPerMinute * IP_MESSAGE_SHARE,
      duration: 60,
    });
  }

  /** Milliseconds until the next connection from this IP is allowed; 0 when allowed now. */
  connection(ip: string): Promise<number> {
    return waitOf(this.connections.consume(ip));
  }

  /** Milliseconds until this visitor may send again; 0 when allowed now (and counted). */
  async message(visitorId: string, ip: string): Promise<number> {
    const visitorWait = await waitOf(this.visitorMessages.consume(visitorId));
    if (visitorWait > 0) return visitorWait;
    return waitOf(this.ipMessages.consume(ip));
  }
}

async function waitOf(attempt: Promise<RateLimiterRes>): Promise<number> {
  try {
    await attempt;
    return 0;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
    throw rejection;
  }
}
