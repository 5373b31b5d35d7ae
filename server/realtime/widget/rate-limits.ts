/**
 * Abuse limits for the widget: connections per IP, messages per visitor and per IP, counted in the
 * shared Redis when several servers run. A burst from one IP that shares many
 * visitors (an office behind NAT) gets a larger allowance than one visitor.
 */
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { type RateLimiterFactory, rateLimiters } from '../../rate-limiter.js';

export interface WidgetLimits {
  messagesPerMinute: number;
  connectionsPerMinute: number;
}

/** How many visitors' worth of messages one IP may send. */
const IP_MESSAGE_SHARE = 5;

export class WidgetRateLimits {
  private readonly connections: RateLimiterAbstract;
  private readonly visitorMessages: RateLimiterAbstract;
  private readonly ipMessages: RateLimiterAbstract;

  constructor(limits: WidgetLimits, limiter: RateLimiterFactory = rateLimiters(null)) {
    this.connections = limiter({
      name: 'widget-connections',
      points: limits.connectionsPerMinute,
      durationSeconds: 60,
    });
    this.visitorMessages = limiter({
      name: 'widget-visitor-messages',
      points: limits.messagesPerMinute,
      durationSeconds: 60,
    });
    this.ipMessages = limiter({
      name: 'widget-ip-messages',
      points: limits.messagesPerMinute * IP_MESSAGE_SHARE,
      durationSeconds: 60,
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
