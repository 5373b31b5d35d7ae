import type { Models } from '../db/models/index.js';
import { activeVersionId } from './promote.js';

/** The version label of the model serving live chats, or null before the first promotion. */
export async function activeVersionLabel(
  models: Pick<Models, 'ModelVersion' | 'SystemState' | 'AuditEvent'>,
): Promise<string | null> {
  const id = await activeVersionId(models);
  if (!id) return null;
  return (await models.ModelVersion.findById(id, { version: 1 }).lean())?.version ?? null;
}
