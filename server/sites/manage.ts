/** Creating, finding and changing sites (the websites that embed the widget). */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import { LAUNCHER_ICONS, type Site, WIDGET_POSITIONS } from '../db/models/site.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { ensureWidgetSource } from '../ingest/live-conversations.js';
import type { WidgetTexts } from '../realtime/widget/protocol.js';
import { describeIssues } from '../zod-issues.js';
import { DEFAULT_TEXTS } from './default-texts.js';
import { normalizeOrigin } from './origins.js';

export type SiteModels = Pick<Models, 'Site' | 'Source'>;
export type StoredSite = Site & { _id: import('mongodb').ObjectId };

export const siteIdOf = (name: string) => deterministicId('site', name.trim().toLowerCase());

/** "pk_" and 24 URL-safe random characters. Public, but unguessable so sites cannot be enumerated. */
export const generatePublicKey = () => `pk_${randomBytes(18).toString('base64url')}`;

const cssColor = z
  .string()
  .trim()
  .max(64)
  .regex(/^(#[0-9a-fA-F]{3,8}|(rgb|rgba|hsl|hsla)\([\d\s.,%/]+\)|[a-zA-Z]+)$/, {
    error: 'expected a CSS color: #1f5fbf, rgb(31 95 191) or a color name',
  });

export const themeInput = z
  .object({
    primaryColor: cssColor,
    primaryTextColor: cssColor,
    backgroundColor: cssColor,
    textColor: cssColor,
    position: z.enum(WIDGET_POSITIONS),
    launcherIcon: z.enum(LAUNCHER_ICONS),
    fontFamily: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[\w\s,"'-]+$/, { error: 'expected a CSS font-family list such as "Inter", sans-serif' }),
  })
  .partial()
  .strict();

const localeTag = z
  .string()
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, { error: 'expected a locale such as en or pt-BR' });
/** Only the widget's own strings: other keys would be stored as field names ("$where", "a.b"). */
const TEXT_KEYS = Object.keys(DEFAULT_TEXTS.en!) as [keyof WidgetTexts, ...(keyof WidgetTexts)[]];
const textsInput = z.record(localeTag, z.partialRecord(z.enum(TEXT_KEYS), z.string().max(500)));

export const siteInput = z.strictObject({
  name: z.string().trim().min(1).max(80),
  origins: z.array(z.string()).min(1, { error: 'give at least one origin the widget may run on' }),
  theme: themeInput.optional(),
  texts: textsInput.optional(),
  defaultLocale: localeTag.optional(),
  handoffThreshold: z.number().min(0).max(1).optional(),
});

export type SiteInput = z.input<typeof siteInput>;

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw badRequest(describeIssues(result.error, 'site'), 'invalid_site');
  return result.data;
}

export async function createSite(models: SiteModels, input: SiteInput): Promise<StoredSite> {
  const parsed = parse(siteInput, input);
  const _id = siteIdOf(parsed.name);
  if (await models.Site.exists({ _id }))
    throw conflict(`A site named "${parsed.name}" exists already.`, 'site_exists');
  // The site's chats become training data through its widget source ("widget:<name>").
  await ensureWidgetSource(models, parsed.name);
  const doc = await models.Site.create({
    _id,
    name: parsed.name,
    publicKey: generatePublicKey(),
    origins: [...new Set(parsed.origins.map(normalizeOrigin))],
    theme: parsed.theme ?? {},
    texts: parsed.texts ?? {},
    defaultLocale: parsed.defaultLocale ?? 'en',
    handoffThreshold: parsed.handoffThreshold,
  });
  return doc.toObject() as StoredSite;
}

/** The site with this name, or a 404 that says so. */
export async function findSiteByName(models: SiteModels, name: string): Promise<StoredSite> {
  const site = await models.Site.findById(siteIdOf(name)).lean();
  if (!site) throw notFound(`No site named "${name}".`, 'site_not_found');
  return site as StoredSite;
}

export async function findSiteByKey(models: SiteModels, publicKey: string): Promise<StoredSite | null> {
  return (await models.Site.findOne({ publicKey }).lean()) as StoredSite | null;
}

/** Changes parts of a site; a name change is not allowed (the name is its identity). */
export async function updateSite(
  models: SiteModels,
  name: string,
  changes: Partial<Omit<SiteInput, 'name'>>,
): Promise<StoredSite> {
  const parsed = parse(siteInput.omit({ name: true }).partial(), changes);
  const site = await findSiteByName(models, name);
  const set: Record<string, unknown> = {};
  if (parsed.origins) set.origins = [...new Set(parsed.origins.map(normalizeOrigin))];
  if (parsed.theme) for (const [key, value] of Object.entries(parsed.theme)) set[`theme.${key}`] = value;
  if (parsed.texts) set.texts = parsed.texts;
  if (parsed.defaultLocale) set.defaultLocale = parsed.defaultLocale;
  if (parsed.handoffThreshold !== undefined) set.handoffThreshold = parsed.handoffThreshold;
  return (await models.Site.findByIdAndUpdate(
    site._id,
    { $set: set },
    { returnDocument: 'after' },
  ).lean()) as StoredSite;
}
