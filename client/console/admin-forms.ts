/** The admin forms' checks and requests: dataset builds, sites, users, sources (the server checks again). */
import type {
  DatasetBuild,
  MappingInput,
  NewSource,
  NewUser,
  ShippedMappingName,
  SiteChanges,
  SiteTheme,
  SiteView,
  SourceConnection,
} from './admin-api.js';
import { ApiError } from './api.js';

type Result<T, F extends string> = { ok: true; value: T } | { ok: false; errors: Partial<Record<F, string>> };

export interface DatasetForm {
  sources: string[];
  /** yyyy-mm-dd from a date input, or ''. */
  since: string;
  validationPercent: string;
}

export const datasetFormDefaults = (): DatasetForm => ({ sources: [], since: '', validationPercent: '10' });

export function datasetBuild(form: DatasetForm): Result<DatasetBuild, keyof DatasetForm> {
  const errors: Partial<Record<keyof DatasetForm, string>> = {};
  if (form.sources.length === 0) errors.sources = 'Pick at least one source.';
  if (form.sources.length > 20) errors.sources = 'Pick at most 20 sources.';
  const percent = Number(form.validationPercent.trim());
  if (!form.validationPercent.trim() || !Number.isInteger(percent) || percent < 0 || percent > 50)
    errors.validationPercent = 'Enter a whole number from 0 to 50.';
  let since: string | undefined;
  if (form.since) {
    const date = new Date(`${form.since}T00:00:00Z`);
    if (Number.isNaN(date.getTime())) errors.since = 'Enter a date.';
    else since = date.toISOString();
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { sources: form.sources, ...(since ? { since } : {}), validationPercent: percent },
  };
}

/** Origins one per line (commas and spaces work too), without blanks or repeats. */
export function parseOrigins(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  ];
}

function isHttpOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
  } catch {
    return false;
  }
}

export interface SiteForm {
  name: string;
  origins: string;
  primaryColor: string;
  primaryTextColor: string;
  backgroundColor: string;
  textColor: string;
  position: SiteTheme['position'];
  launcherIcon: SiteTheme['launcherIcon'];
  fontFamily: string;
  handoffThreshold: string;
}

export type SiteField = keyof SiteForm;

const THEME_KEYS = [
  'primaryColor',
  'primaryTextColor',
  'backgroundColor',
  'textColor',
  'position',
  'launcherIcon',
  'fontFamily',
] as const;

export function siteFormFrom(site: SiteView | null): SiteForm {
  return {
    name: site?.name ?? '',
    origins: site?.origins.join('\n') ?? '',
    primaryColor: site?.theme.primaryColor ?? '#1f5fbf',
    primaryTextColor: site?.theme.primaryTextColor ?? '#ffffff',
    backgroundColor: site?.theme.backgroundColor ?? '#ffffff',
    textColor: site?.theme.textColor ?? '#1b1f24',
    position: site?.theme.position ?? 'right',
    launcherIcon: site?.theme.launcherIcon ?? 'chat',
    fontFamily:
      site?.theme.fontFamily ??
      'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    handoffThreshold: String(site?.handoffThreshold ?? 0.05),
  };
}

/**
 * A new site's fields, or an existing one's changes only (PATCH /api/sites/:name); `original`
 * null means a new site.
 */
export function siteRequest(
  form: SiteForm,
  original: SiteView | null,
): Result<SiteChanges & { name?: string }, SiteField> {
  const errors: Partial<Record<SiteField, string>> = {};
  const origins = parseOrigins(form.origins);
  if (!original && !form.name.trim()) errors.name = 'Give the site a name.';
  if (origins.length === 0) errors.origins = 'Give at least one origin the widget may run on.';
  const bad = origins.find((origin) => !isHttpOrigin(origin));
  if (bad) errors.origins = `${bad} is not an origin such as https://shop.example.`;
  const threshold = Number(form.handoffThreshold.trim());
  if (!form.handoffThreshold.trim() || !Number.isFinite(threshold) || threshold < 0 || threshold > 1)
    errors.handoffThreshold = 'Enter a number from 0 to 1.';
  if (!form.fontFamily.trim()) errors.fontFamily = 'Give a font-family list.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const theme: Partial<SiteTheme> = {};
  for (const key of THEME_KEYS) {
    const value = typeof form[key] === 'string' ? form[key].trim() : form[key];
    if (!original || original.theme[key] !== value) (theme as Record<string, string>)[key] = value;
  }
  const changes: SiteChanges & { name?: string } = {};
  if (!original) changes.name = form.name.trim();
  if (!original || origins.join('\n') !== original.origins.join('\n')) changes.origins = origins;
  if (Object.keys(theme).length > 0) changes.theme = theme;
  if (!original || threshold !== original.handoffThreshold) changes.handoffThreshold = threshold;
  return { ok: true, value: changes };
}

export type UserField = keyof NewUser;

export function newUserRequest(form: NewUser): Result<NewUser, UserField> {
  const errors: Partial<Record<UserField, string>> = {};
  const email = form.email.trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) errors.email = 'Enter an email address.';
  if (!form.name.trim()) errors.name = 'Enter a name.';
  if (form.password.length < 12) errors.password = 'Use at least 12 characters.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { email, name: form.name.trim(), role: form.role, password: form.password } };
}

/** The field mappings Parley ships (server/ingest/mappings), with what each reads. */
export const SHIPPED_MAPPINGS: readonly { name: ShippedMappingName; description: string }[] = [
  { name: 'helpdesk-messages', description: 'a helpdesk export, a document per message' },
  { name: 'conversations', description: 'a document per conversation with its turns' },
  { name: 'demo-support-messages', description: 'the demo helpdesk, a document per message' },
];

export interface MappingForm {
  /** A shipped mapping by name, or a mapping object pasted as JSON. */
  kind: 'shipped' | 'json';
  shipped: ShippedMappingName;
  json: string;
}

export const mappingFormDefaults = (): MappingForm => ({
  kind: 'shipped',
  shipped: 'helpdesk-messages',
  json: '',
});

/** The mapping to send: a shipped one's name, or the pasted JSON when it is a JSON object. */
export function mappingRequest(form: MappingForm): Result<MappingInput, 'json'> {
  if (form.kind === 'shipped') return { ok: true, value: form.shipped };
  const text = form.json.trim();
  if (!text) return { ok: false, errors: { json: 'Paste a mapping as JSON, or choose a shipped one.' } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: { json: `This is not valid JSON: ${(error as Error).message}` } };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return {
      ok: false,
      errors: { json: 'A mapping is a JSON object: { "shape": …, "fields": …, "roles": … }.' },
    };
  return { ok: true, value: parsed as Record<string, unknown> };
}

export interface SourceForm extends SourceConnection {
  name: string;
  mapping: MappingForm;
}

export type SourceField = 'name' | keyof SourceConnection | 'json';

export const sourceFormDefaults = (): SourceForm => ({
  name: '',
  uri: '',
  database: '',
  collection: '',
  mapping: mappingFormDefaults(),
});

const SOURCE_NAME = /^[\w.-]+$/;
const SOURCE_URI = /^(mongodb(\+srv)?:\/\/\S+|self)$/;

/** Where the source lives, checked as the server checks it (POST /api/sources/test). */
export function sourceConnection(form: SourceConnection): Result<SourceConnection, keyof SourceConnection> {
  const errors: Partial<Record<keyof SourceConnection, string>> = {};
  const uri = form.uri.trim();
  const database = form.database.trim();
  const collection = form.collection.trim();
  if (!SOURCE_URI.test(uri))
    errors.uri = uri
      ? 'Enter a mongodb:// or mongodb+srv:// connection string, or self.'
      : 'Enter the connection string.';
  if (!database) errors.database = 'Enter the database name.';
  else if (database.length > 64) errors.database = 'Keep it to 64 characters.';
  if (!collection) errors.collection = 'Enter the collection name.';
  else if (collection.length > 120) errors.collection = 'Keep it to 120 characters.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { uri, database, collection } };
}

export function sourceRequest(form: SourceForm): Result<NewSource, SourceField> {
  const name = form.name.trim();
  const errors: Partial<Record<SourceField, string>> = {};
  if (!name) errors.name = 'Give the source a name.';
  else if (name.length > 80) errors.name = 'Keep it to 80 characters.';
  else if (!SOURCE_NAME.test(name)) errors.name = 'Use letters, digits, _ . and - only.';
  const connection = sourceConnection(form);
  if (!connection.ok) Object.assign(errors, connection.errors);
  const mapping = mappingRequest(form.mapping);
  if (!mapping.ok) Object.assign(errors, mapping.errors);
  if (!connection.ok || !mapping.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name, ...connection.value, mapping: mapping.value } };
}

const MAPPING_PREFIX = /^Invalid field mapping:\s*/;

/**
 * The problems of a mapping the server refused (400 `invalid_mapping`, one problem a line after
 * "Invalid field mapping:"); null for any other error.
 */
export function mappingProblems(error: unknown): string[] | null {
  if (!(error instanceof ApiError) || error.status !== 400 || error.error !== 'invalid_mapping') return null;
  const problems = error.message
    .replace(MAPPING_PREFIX, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return problems.length > 0 ? problems : [error.message];
}
