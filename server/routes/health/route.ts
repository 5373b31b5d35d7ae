import { Router } from 'express';
import type { ServingStatus } from '../../serving/engine.js';

export interface HealthDeps {
  isDatabaseUp: () => Promise<boolean>;
  activeModel: () => Promise<string | null>;
  /** The chat engine's state in this process. */
  serving: () => ServingStatus;
}

export interface HealthReport {
  /** Liveness: the process answers and its database is up. */
  ok: boolean;
  db: 'up' | 'down';
  /** The version promoted in the registry (what every server should serve). */
  model: string | null;
  /** Readiness: this process has a model loaded and answers chats. */
  ready: boolean;
  serving: ServingStatus;
}

/**
 * GET /healthz: liveness, 200 with the DB up and 503 when it is not (load balancers read the
 * status), plus the serving state. GET /readyz: readiness for orchestrators, 200 only when the
 * DB is up and a model is loaded, else 503 with the reason.
 */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  const report = async (): Promise<HealthReport> => {
    const up = await deps.isDatabaseUp();
    const model = up ? await deps.activeModel().catch(() => null) : null;
    const serving = deps.serving();
    return { ok: up, db: up ? 'up' : 'down', model, ready: up && serving.ready, serving };
  };
  router.get('/healthz', async (_req, res) => {
    const body = await report();
    res
      .status(body.ok ? 200 : 503)
      .set('Cache-Control', 'no-store')
      // Status pages on other origins (the demo site) read it; it carries nothing private.
      .set('Access-Control-Allow-Origin', '*')
      .json(body);
  });
  router.get('/readyz', async (_req, res) => {
    const body = await report();
    const reason = body.ok ? body.serving.reason : 'the database is down';
    res
      .status(body.ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ ready: body.ready, version: body.serving.version, reason });
  });
  return router;
}
