/**
 * The admin endpoints of the console API (README, "Console API"), typed as the server presents
 * them: versions and their reports, training jobs, datasets, sources, privacy spend, sites, users
 * and the audit log. Types only come from the server (erased from the bundle).
 */
import type { ComparisonReport } from '../../server/evaluate/compare.js';
import type { ShippedMappingName } from '../../server/ingest/mappings/index.js';
import type { CumulativeSpend } from '../../server/privacy/dp/ledger.js';
import type { TrainingRequest } from '../../server/realtime/agent/protocol.js';
import type { ApiClient } from './api.js';

export type { ComparisonReport, MetricName, MetricRow, SideBySide } from '../../server/evaluate/compare.js';

export interface VersionPrivacy {
  epsilon: number | null;
  delta: number | null;
  accountant: string | null;
  noiseMultiplier: number | null;
  unit: 'example' | 'customer' | null;
}

export interface ModelVersionView {
  id: string;
  version: string;
  status: 'candidate' | 'active' | 'retired' | 'failed' | string;
  artifactPath: string;
  baseModel: string;
  architecture: string | null;
  datasetId: string | null;
  trainingJobId: string | null;
  hyperparameters: Record<string, unknown>;
  privacy: VersionPrivacy | null;
  metrics: Record<string, unknown>;
  comparison: { against: string | null; againstKind: string | null; createdAt: string | null } | null;
  promotedAt: string | null;
  createdAt: string | null;
  active: boolean;
}

export interface VersionDetail extends ModelVersionView {
  report: ComparisonReport | null;
}

export interface PromoteResult {
  version: string;
  previous: string | null;
  overridden: boolean;
}

export interface RollbackResult {
  version: string | null;
  from: string | null;
}

export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number | null;
  validationLoss: number | null;
  learningRate: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
  epsilon: number | null;
}

export interface JobLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  time: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TrainingJobView {
  id: string;
  datasetId: string;
  baseModel: string;
  mode: 'lora' | 'full';
  hyperparameters: Record<string, unknown>;
  privacy: {
    enabled: boolean;
    targetEpsilon: number | null;
    delta: number | null;
    epsilonSpent: number | null;
    unit: 'example' | 'customer' | null;
  } | null;
  status: JobStatus;
  progress: {
    step: number;
    totalSteps: number;
    epoch: number;
    trainLoss: number | null;
    validationLoss: number | null;
    tokensPerSecond: number | null;
    learningRate: number | null;
    etaSeconds: number | null;
    epsilonSpent: number | null;
  } | null;
  outputModelVersionId: string | null;
  cancelRequested: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string | null;
  error: string | null;
}

export interface TrainingJobDetail extends TrainingJobView {
  metrics: StepMetrics[];
  events: JobLogEntry[];
}

export interface DatasetStats {
  conversations: number;
  examples: number;
  tokens: number;
  targetTokens: number;
  trainExamples: number;
  validationExamples: number;
  truncatedExamples: number;
}

export interface DatasetView {
  id: string;
  name: string;
  status: 'building' | 'ready' | 'failed' | string;
  sources: string[];
  filters: { since: string | null; until: string | null; channel: string | null } | null;
  render: { baseModel: string | null; validationPercent: number | null } | null;
  stats: DatasetStats | null;
  createdAt: string | null;
  error: string | null;
}

export interface RunView {
  id: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  counts: { read: number; conversations: number; messages: number; quarantined: number };
}

export interface RunWithPii extends RunView {
  pii: { entities?: Record<string, number>; operators?: Record<string, number> } | null;
}

export interface SourceView {
  name: string;
  kind: string;
  database: string | null;
  collection: string | null;
  shape: string;
  watermark: { ts: string; id: unknown } | null;
  createdAt: string | null;
  lastRun: RunView | null;
  quarantined: number;
}

/** Where a MongoDB source lives: a mongodb:// URI (a secret, never shown again) or "self". */
export interface SourceConnection {
  uri: string;
  database: string;
  collection: string;
}

export type { ShippedMappingName };

/** A field mapping: a shipped one by name, or a mapping object (server/ingest/mapping.ts checks it). */
export type MappingInput = ShippedMappingName | Record<string, unknown>;

export interface NewSource extends SourceConnection {
  name: string;
  mapping: MappingInput;
}

/** A source as an add or a mapping change returns it (no run counts). */
export type SavedSource = Omit<SourceView, 'quarantined'>;

export interface QuarantinedDocument {
  id: string;
  sourceDocumentId: string;
  reason: string;
  path: string | null;
}

export type PrivacySpend = CumulativeSpend & { dataset: string };

export interface PrivacyView {
  budget: { epsilon?: number };
  spend: PrivacySpend[];
}

export interface SiteTheme {
  primaryColor: string;
  primaryTextColor: string;
  backgroundColor: string;
  textColor: string;
  position: 'right' | 'left';
  launcherIcon: 'chat' | 'help' | 'headset';
  fontFamily: string;
}

export interface SiteView {
  id: string;
  name: string;
  publicKey: string;
  origins: string[];
  theme: SiteTheme;
  defaultLocale: string;
  handoffThreshold: number;
  disabled: boolean;
  snippet: string;
}

export interface SiteChanges {
  origins?: string[];
  theme?: Partial<SiteTheme>;
  handoffThreshold?: number;
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'agent';
  disabled: boolean;
  lastLoginAt: string | null;
}

export interface NewUser {
  email: string;
  name: string;
  role: 'admin' | 'agent';
  password: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actor: { kind: string | null; email: string | null };
  target: { type: string; id: string } | null;
  details: Record<string, unknown>;
}

export interface DatasetBuild {
  sources: string[];
  since?: string;
  validationPercent: number;
}

const seg = encodeURIComponent;

/** The admin endpoints over the console's API client (CSRF, 401 handling and errors included). */
export function adminApi(api: ApiClient) {
  return {
    versions: () =>
      api.request<{ active: string | null; versions: ModelVersionView[] }>('GET', '/api/versions'),
    version: (id: string) => api.request<VersionDetail>('GET', `/api/versions/${seg(id)}`),
    promote: (id: string, override?: string) =>
      api.request<PromoteResult>('POST', `/api/versions/${seg(id)}/promote`, override ? { override } : {}),
    rollback: () => api.request<RollbackResult>('POST', '/api/versions/rollback', {}),

    trainingJobs: async () =>
      (await api.request<{ jobs: TrainingJobView[] }>('GET', '/api/training-jobs?limit=50')).jobs,
    trainingJob: (id: string) => api.request<TrainingJobDetail>('GET', `/api/training-jobs/${seg(id)}`),
    startTraining: (request: TrainingRequest) =>
      api.request<{ jobId: string }>('POST', '/api/training-jobs', request),
    cancelTraining: (id: string) =>
      api.request<{ ok: true }>('POST', `/api/training-jobs/${seg(id)}/cancel`, {}),

    datasets: async () => (await api.request<{ datasets: DatasetView[] }>('GET', '/api/datasets')).datasets,
    buildDataset: (build: DatasetBuild) => api.request<{ started: true }>('POST', '/api/datasets', build),

    sources: async () => (await api.request<{ sources: SourceView[] }>('GET', '/api/sources')).sources,
    runs: async (source: string) =>
      (await api.request<{ runs: RunWithPii[] }>('GET', `/api/sources/${seg(source)}/runs?limit=20`)).runs,
    quarantine: async (source: string) =>
      (
        await api.request<{ documents: QuarantinedDocument[] }>(
          'GET',
          `/api/sources/${seg(source)}/quarantine?limit=50`,
        )
      ).documents,
    ingest: (source: string) =>
      api.request<{ source: string }>('POST', `/api/sources/${seg(source)}/ingest`, {}),
    testSource: (connection: SourceConnection) =>
      api.request<{ ok: true; message: string }>('POST', '/api/sources/test', connection),
    addSource: async (source: NewSource) =>
      (await api.request<{ source: SavedSource }>('POST', '/api/sources', source)).source,
    updateSourceMapping: async (name: string, mapping: MappingInput) =>
      (await api.request<{ source: SavedSource }>('PATCH', `/api/sources/${seg(name)}`, { mapping })).source,

    privacy: () => api.request<PrivacyView>('GET', '/api/privacy'),

    sites: async () => (await api.request<{ sites: SiteView[] }>('GET', '/api/sites')).sites,
    addSite: async (site: { name: string; origins: string[] } & SiteChanges) =>
      (await api.request<{ site: SiteView }>('POST', '/api/sites', site)).site,
    updateSite: async (name: string, changes: SiteChanges) =>
      (await api.request<{ site: SiteView }>('PATCH', `/api/sites/${seg(name)}`, changes)).site,

    users: async () => (await api.request<{ users: UserView[] }>('GET', '/api/users')).users,
    addUser: async (user: NewUser) =>
      (await api.request<{ user: UserView }>('POST', '/api/users', user)).user,
    updateUser: async (id: string, changes: { role?: 'admin' | 'agent'; disabled?: boolean }) =>
      (await api.request<{ user: UserView }>('PATCH', `/api/users/${seg(id)}`, changes)).user,

    audit: async (action?: string) => {
      const params = new URLSearchParams({ limit: '200' });
      if (action) params.set('action', action);
      return (await api.request<{ events: AuditEntry[] }>('GET', `/api/audit?${params}`)).events;
    },
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
