import type { Connection } from 'mongoose';
import { auditEventSchema } from './audit-event.js';
import { conversationSchema } from './conversation.js';
import { datasetSchema } from './dataset.js';
import { ingestionRunSchema } from './ingestion-run.js';
import { modelVersionSchema } from './model-version.js';
import { quarantinedDocumentSchema } from './quarantined-document.js';
import { sessionSchema } from './session.js';
import { siteSchema } from './site.js';
import { sourceSchema } from './source.js';
import { systemStateSchema } from './system-state.js';
import { trainingJobSchema } from './training-job.js';
import { userSchema } from './user.js';
import { visitorContactSchema } from './visitor-contact.js';
import { workerJobSchema } from './worker-job.js';

/** Model name -> [schema, collection]. Collection names are explicit: other tools read them. */
const definitions = {
  Conversation: [conversationSchema, 'conversations'],
  Source: [sourceSchema, 'sources'],
  IngestionRun: [ingestionRunSchema, 'ingestion_runs'],
  QuarantinedDocument: [quarantinedDocumentSchema, 'quarantine'],
  User: [userSchema, 'users'],
  Session: [sessionSchema, 'sessions'],
  Dataset: [datasetSchema, 'datasets'],
  TrainingJob: [trainingJobSchema, 'training_jobs'],
  ModelVersion: [modelVersionSchema, 'model_versions'],
  AuditEvent: [auditEventSchema, 'audit_events'],
  SystemState: [systemStateSchema, 'system_state'],
  Site: [siteSchema, 'sites'],
  VisitorContact: [visitorContactSchema, 'visitor_contacts'],
  WorkerJob: [workerJobSchema, 'worker_jobs'],
} as const;

export function bindModels(connection: Connection) {
  const model = <K extends keyof typeof definitions>(name: K) => {
    const [schema, collection] = definitions[name];
    return connection.model(name, schema as (typeof definitions)[K][0], collection);
  };
  return {
    Conversation: model('Conversation'),
    Source: model('Source'),
    IngestionRun: model('IngestionRun'),
    QuarantinedDocument: model('QuarantinedDocument'),
    User: model('User'),
    Session: model('Session'),
    Dataset: model('Dataset'),
    TrainingJob: model('TrainingJob'),
    ModelVersion: model('ModelVersion'),
    AuditEvent: model('AuditEvent'),
    SystemState: model('SystemState'),
    Site: model('Site'),
    VisitorContact: model('VisitorContact'),
    WorkerJob: model('WorkerJob'),
  };
}

export type Models = ReturnType<typeof bindModels>;

export const collectionNames = Object.values(definitions).map(([, collection]) => collection);

/** Creates every declared index (idempotent; existing ones are left alone). */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) await model.createIndexes();
}
