import type { Models } from '../db/models/index.js';

/** The version label of the model serving live chats, or null before the first promotion. */
export async function activeVersionLabel(models: Pick<Models, 'ModelVersion'>): Promise<string | null> {
  const active = await models.ModelVersion.findOne({ status: 'active' }, { version: 1 })
    .sort({ promotedAt: -1 })
    .lean();
  return active?.version ?? null;
}
