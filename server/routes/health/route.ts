import { Router } from 'express';

export interface HealthDeps {
  isDatabaseUp: () => Promise<boolean>;
  activeModel: () => Promise<string | null>;
}

export interface HealthReport {
  ok: boolean;
  db: 'up' | 'down';
  model: string | null;
}

/** GET /healthz: 200 with the DB up, 503 when it is not (load balancers read the status). */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const up = await deps.isDatabaseUp();
    const model = up ? await deps.activeModel().catch(() => null) : null;
    const report: HealthReport = { ok: up, db: up ? 'up' : 'down', model };
    res
      .status(up ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(report);
  });
  return router;
}
