/** Builds the Express app without listening, so tests can mount it on a port of their own. */
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import { errorHandler, notFoundRoute } from './errors.js';
import type { Logger } from './logger.js';
import { consoleAssetRoutes } from './routes/console/route.js';
import { type HealthDeps, healthRoutes } from './routes/health/route.js';
import { type WidgetLookDeps, widgetLookRoute } from './routes/widget/look.js';
import { widgetAssetRoutes } from './routes/widget/route.js';

export const CLIENT_DIR = path.join(import.meta.dirname, '..', 'client');

export interface AppDeps extends HealthDeps, WidgetLookDeps {
  logger: Logger;
  /** The console's REST API, mounted at /api (server/routes/api). */
  api: Router;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // No JSON parser here: /api parses its own bodies with its own limit, and nothing else reads one.

  app.use(healthRoutes(deps));
  app.use(widgetAssetRoutes());
  app.use(widgetLookRoute(deps));
  app.use(consoleAssetRoutes());
  app.use('/api', deps.api);
  app.use(express.static(path.join(CLIENT_DIR, 'demo'), { index: 'index.html', maxAge: 0 }));

  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
