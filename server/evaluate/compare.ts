/**
 * The comparison report: a new model version against the active one (or, with none active, the
 * base model it was trained from), on the same data. Both models are scored on the dataset's
 * validation split (loss and perplexity with the training loss mask), on the same seeded ranking
 * cases (R@1, MRR), and on the same seeded generation samples (ROUGE-L, BLEU, failure rates,
 * lengths); each version's live ratings are the human signal. Every metric is side by side with
 * its delta (new minus against), with side-by-side example replies. The report is stored on the
 * new version's document (`comparison`), and its own figures merged into its `metrics`.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Models } from '../db/models/index.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { activeVersionId, findVersion } from '../registry/promote.js';
import { loadServedModel } from '../serving/served-model.js';
import { rankingCasesFromConversations } from './build-cases.js';
import type { RankingCase } from './cases.js';
import {
  type GeneratedReply,
  type GenerationMetrics,
  type GenerationSample,
  generateReplies,
  generationMetrics,
  generationSamples,
} from './generation.js';
import { type HumanSignal, humanSignal } from './human.js';
import { type LossData, type LossResult, validationExamplesFor, validationLoss } from './loss.js';
import { type RankingResult, rankCases } from './ranking.js';
import { findDataset, validationConversations } from './validation-split.js';

export interface ModelEvaluation {
  loss: LossResult | null;
  ranking: RankingResult | null;
  generation: GenerationMetrics;
  human: HumanSignal;
}

export interface ComparedModel {
  /** 'version': a registered version; 'base': the base model the new version was trained from. */
  kind: 'version' | 'base' | 'model';
  version: string | null;
  versionId: string | null;
  artifactPath: string;
}

export interface MetricRow {
  new: number | null;
  against: number | null;
  /** new - against; null when either side is missing. */
  delta: number | null;
  better: 'lower' | 'higher' | null;
}

export interface SideBySide {
  id: string;
  context: { role: 'customer' | 'agent'; text: string }[];
  reference: string;
  against: string;
  new: string;
}

export interface ComparisonReport {
  version: string;
  versionId: string;
  against: ComparedModel;
  datasetId: string;
  createdAt: string;
  settings: {
    seed: number;
    rankingCases: number;
    samples: number;
    maxNewTokens: number;
    systemPrompt: string | null;
  };
  metrics: Record<MetricName, MetricRow>;
  /** Each model's full figures (sample sizes, token counts, rating counts). */
  evaluations: { new: ModelEvaluation; against: ModelEvaluation };
  examples: SideBySide[];
}

export const METRICS = {
  validationLoss: 'lower',
  perplexity: 'lower',
  r1: 'higher',
  mrr: 'higher',
  rougeL: 'higher',
  bleu: 'higher',
  emptyRate: 'lower',
  repeatedRate: 'lower',
  overLongRate: 'lower',
  meanReplyWords: null,
  meanReplyTokens: null,
  humanUpRate: 'higher',
  humanDownRate: 'lower',
  humanCorrectedRate: 'lower',
} as const satisfies Record<string, 'lower' | 'higher' | null>;

export type MetricName = keyof typeof METRICS;

/** The figures of one evaluation, flat, by the names of METRICS. */
export function flatMetrics(e: ModelEvaluation): Record<MetricName, number | null> {
  const generated = e.generation.n > 0;
  const rated = e.human.n > 0;
  return {
    validationLoss: e.loss?.validationLoss ?? null,
    perplexity: e.loss?.perplexity ?? null,
    r1: e.ranking?.r1 ?? null,
    mrr: e.ranking?.mrr ?? null,
    rougeL: generated ? e.generation.rougeL : null,
    bleu: generated ? e.generation.bleu : null,
    emptyRate: generated ? e.generation.emptyRate : null,
    repeatedRate: generated ? e.generation.repeatedRate : null,
    overLongRate: generated ? e.generation.overLongRate : null,
    meanReplyWords: generated ? e.generation.meanReplyWords : null,
    meanReplyTokens: generated ? e.generation.meanReplyTokens : null,
    humanUpRate: rated ? e.human.upRate : null,
    humanDownRate: rated ? e.human.downRate : null,
    humanCorrectedRate: rated ? e.human.correctedRate : null,
  };
}

export function sideBySide(
  candidate: ModelEvaluation,
  against: ModelEvaluation,
): Record<MetricName, MetricRow> {
  const a = flatMetrics(candidate);
  const b = flatMetrics(against);
  return Object.fromEntries(
    (Object.keys(METRICS) as MetricName[]).map((name) => {
      const x = a[name];
      const y = b[name];
      return [
        name,
        { new: x, against: y, delta: x === null || y === null ? null : x - y, better: METRICS[name] },
      ];
    }),
  ) as Record<MetricName, MetricRow>;
}

export interface CompareOptions {
  /** A version label or id, or a model directory; default the active version, else the base model. */
  against?: string;
  /** Default the dataset the new version was trained on. */
  datasetId?: string;
  rankingCases?: number;
  samples?: number;
  examples?: number;
  maxNewTokens?: number;
  seed?: number;
  /** Default the system prompt the dataset was rendered with. */
  systemPrompt?: string | null;
  onProgress?: (line: string) => void;
}

type CompareModels = Pick<Models, 'ModelVersion' | 'SystemState' | 'AuditEvent' | 'Dataset' | 'Conversation'>;

const isModelDir = async (dir: string) =>
  (await stat(path.join(dir, 'config.json')).catch(() => undefined))?.isFile() ?? false;

async function resolveAgainst(
  models: CompareModels,
  version: { _id: { toHexString(): string; equals(other: unknown): boolean }; baseModel: string },
  against: string | undefined,
): Promise<ComparedModel> {
  if (against) {
    const found = await findVersion(models, against).catch(async (error: unknown) => {
      if (await isModelDir(against)) return null;
      throw error;
    });
    if (!found) return { kind: 'model', version: null, versionId: null, artifactPath: against };
    return {
      kind: 'version',
      version: found.version,
      versionId: found._id.toHexString(),
      artifactPath: found.artifactPath,
    };
  }
  const activeId = await activeVersionId(models);
  if (activeId && !version._id.equals(activeId)) {
    const active = await models.ModelVersion.findById(activeId).lean();
    if (active)
      return {
        kind: 'version',
        version: active.version,
        versionId: active._id.toHexString(),
        artifactPath: active.artifactPath,
      };
  }
  return { kind: 'base', version: null, versionId: null, artifactPath: version.baseModel };
}

interface EvaluationData {
  loss: LossData;
  cases: RankingCase[];
  samples: GenerationSample[];
  systemPrompt: string | null;
  maxNewTokens: number;
}

/** One model's figures on the shared data, and its replies to the generation samples. */
export async function evaluateModelDir(
  models: Pick<Models, 'Conversation'>,
  dir: string,
  versionLabel: string | null,
  data: EvaluationData,
  progress: (line: string) => void = () => undefined,
): Promise<{ evaluation: ModelEvaluation; replies: GeneratedReply[] }> {
  const served = await loadServedModel(dir);
  const { model, tokenizer } = served;
  try {
    const name = versionLabel ?? dir;
    progress(`${name}: validation loss`);
    const { examples, tokenization } = await validationExamplesFor(data.loss, dir, model, tokenizer);
    const loss = examples.length > 0 ? await validationLoss(model, examples, tokenization) : null;
    progress(`${name}: ranking ${data.cases.length} cases`);
    const ranking =
      data.cases.length > 0
        ? rankCases(model, tokenizer, data.cases, { systemPrompt: data.systemPrompt })
        : null;
    progress(`${name}: generating ${data.samples.length} replies`);
    const replies = await generateReplies(served, data.samples, {
      systemPrompt: data.systemPrompt,
      maxNewTokens: data.maxNewTokens,
      onSample: (done) => {
        if (done % 10 === 0) progress(`${name}: ${done}/${data.samples.length} replies`);
      },
    });
    const generation = generationMetrics(data.samples, replies);
    const human = await humanSignal(models, versionLabel);
    return { evaluation: { loss, ranking, generation, human }, replies };
  } finally {
    served.dispose();
  }
}

/** Builds the report of `newVersion` against the active version (or `options.against`) and stores it. */
export async function compareVersions(
  models: CompareModels,
  newVersion: string,
  options: CompareOptions = {},
): Promise<ComparisonReport> {
  const progress = options.onProgress ?? (() => undefined);
  const version = await findVersion(models, newVersion);
  const datasetId = options.datasetId ?? version.datasetId?.toHexString();
  if (!datasetId)
    throw badRequest(
      `Version ${version.version} has no dataset: pass one to compare on.`,
      'dataset_required',
    );
  const dataset = await findDataset(models, datasetId);
  if (!dataset.artifactPath || dataset.status !== 'ready')
    throw conflict(`Dataset ${datasetId} is ${dataset.status}, not ready.`, 'dataset_not_ready');
  const against = await resolveAgainst(models, version, options.against);
  if (!(await isModelDir(against.artifactPath)))
    throw notFound(`No model in ${against.artifactPath} to compare against.`, 'model_not_found');

  const seed = options.seed ?? 1;
  const systemPrompt =
    options.systemPrompt === undefined ? (dataset.render?.systemPrompt ?? null) : options.systemPrompt;
  const conversations = await validationConversations(models, datasetId);
  const cases = rankingCasesFromConversations(conversations, { count: options.rankingCases ?? 100, seed });
  const samples = generationSamples(conversations, { count: options.samples ?? 50, seed });
  const data: EvaluationData = {
    loss: {
      datasetDir: dataset.artifactPath,
      baseModel: dataset.render?.baseModel ?? null,
      systemPrompt: dataset.render?.systemPrompt ?? null,
      contextLength: dataset.render?.contextLength ?? Number.POSITIVE_INFINITY,
      minAgentTurns: dataset.filters?.minAgentTurns ?? 1,
      conversations,
    },
    cases,
    samples,
    systemPrompt,
    maxNewTokens: options.maxNewTokens ?? 64,
  };
  // One model in memory at a time.
  const old = await evaluateModelDir(models, against.artifactPath, against.version, data, progress);
  const current = await evaluateModelDir(models, version.artifactPath, version.version, data, progress);

  const report: ComparisonReport = {
    version: version.version,
    versionId: version._id.toHexString(),
    against,
    datasetId,
    createdAt: new Date().toISOString(),
    settings: {
      seed,
      rankingCases: cases.length,
      samples: samples.length,
      maxNewTokens: data.maxNewTokens,
      systemPrompt,
    },
    metrics: sideBySide(current.evaluation, old.evaluation),
    evaluations: { new: current.evaluation, against: old.evaluation },
    examples: samples.slice(0, options.examples ?? 20).map((sample, i) => ({
      id: sample.id,
      context: sample.context,
      reference: sample.reference,
      against: old.replies[i]!.text,
      new: current.replies[i]!.text,
    })),
  };
  await storeComparison(models, version._id, (version.metrics ?? {}) as Record<string, unknown>, report);
  return report;
}

/** The report on the version, and the version's own figures in its metrics (the gate's fallback). */
async function storeComparison(
  models: Pick<Models, 'ModelVersion'>,
  id: unknown,
  metrics: Record<string, unknown>,
  report: ComparisonReport,
): Promise<void> {
  const own = report.evaluations.new;
  const merged: Record<string, unknown> = {
    ...metrics,
    ...(own.loss ? { validationLoss: own.loss.validationLoss, perplexity: own.loss.perplexity } : {}),
    ...(own.ranking ? { ranking: own.ranking } : {}),
    generation: own.generation,
    human: own.human,
  };
  await models.ModelVersion.updateOne({ _id: id }, { $set: { metrics: merged, comparison: report } });
}
