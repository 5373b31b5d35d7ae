/** The admin forms' checks and requests: dataset builds, sites, users (the server checks again). */
import type { DatasetBuild, NewUser, SiteChanges, SiteTheme, SiteView } from './admin-api.js';

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
