import { describe, expect, it } from 'vitest';
import type { SiteView } from '../../../../client/console/admin-api.js';
import {
  datasetBuild,
  newUserRequest,
  parseOrigins,
  siteFormFrom,
  siteRequest,
} from '../../../../client/console/admin-forms.js';
import { describeDelta, formatDuration, formatNumber } from '../../../../client/console/format.js';
import { againstLabel, hyperparameterSummary, reportRows } from '../../../../client/console/report.js';

const site: SiteView = {
  id: 'a',
  name: 'shop',
  publicKey: 'pk_x',
  origins: ['https://shop.example'],
  theme: {
    primaryColor: '#1f5fbf',
    primaryTextColor: '#ffffff',
    backgroundColor: '#ffffff',
    textColor: '#1b1f24',
    position: 'right',
    launcherIcon: 'chat',
    fontFamily: 'system-ui',
  },
  defaultLocale: 'en',
  handoffThreshold: 0.05,
  disabled: false,
  snippet: '<script></script>',
};

describe('admin forms', () => {
  it('builds a dataset request from sources, a since date and the validation share', () => {
    expect(datasetBuild({ sources: [], since: '', validationPercent: '60' })).toEqual({
      ok: false,
      errors: {
        sources: 'Pick at least one source.',
        validationPercent: 'Enter a whole number from 0 to 50.',
      },
    });
    expect(datasetBuild({ sources: ['widget:shop'], since: '2026-04-01', validationPercent: '10' })).toEqual({
      ok: true,
      value: { sources: ['widget:shop'], since: '2026-04-01T00:00:00.000Z', validationPercent: 10 },
    });
    expect(datasetBuild({ sources: ['a'], since: '', validationPercent: '0' })).toEqual({
      ok: true,
      value: { sources: ['a'], validationPercent: 0 },
    });
  });

  it('reads origins one per line, or with commas, without repeats', () => {
    expect(parseOrigins(' https://a.example\nhttps://b.example, https://a.example \n\n')).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('sends only what changed on a site, and everything for a new one', () => {
    const unchanged = siteRequest(siteFormFrom(site), site);
    expect(unchanged).toEqual({ ok: true, value: {} });
    const edited = siteRequest(
      {
        ...siteFormFrom(site),
        origins: 'https://shop.example\nhttp://localhost:8080',
        primaryColor: '#aa0000',
        handoffThreshold: '0.2',
      },
      site,
    );
    expect(edited).toEqual({
      ok: true,
      value: {
        origins: ['https://shop.example', 'http://localhost:8080'],
        theme: { primaryColor: '#aa0000' },
        handoffThreshold: 0.2,
      },
    });
    const created = siteRequest(
      { ...siteFormFrom(null), name: ' harbor ', origins: 'https://harbor.example' },
      null,
    );
    expect(created.ok && created.value).toMatchObject({
      name: 'harbor',
      origins: ['https://harbor.example'],
      handoffThreshold: 0.05,
      theme: { position: 'right', launcherIcon: 'chat' },
    });
  });

  it('refuses a site without a name or a proper origin, or with a threshold outside 0..1', () => {
    expect(
      siteRequest({ ...siteFormFrom(null), origins: 'shop.example', handoffThreshold: '2' }, null),
    ).toEqual({
      ok: false,
      errors: {
        name: 'Give the site a name.',
        origins: 'shop.example is not an origin such as https://shop.example.',
        handoffThreshold: 'Enter a number from 0 to 1.',
      },
    });
  });

  it('checks a new user like the server does (a 12-character password at least)', () => {
    expect(newUserRequest({ email: 'x', name: ' ', role: 'agent', password: 'short' })).toEqual({
      ok: false,
      errors: {
        email: 'Enter an email address.',
        name: 'Enter a name.',
        password: 'Use at least 12 characters.',
      },
    });
    expect(
      newUserRequest({
        email: ' dana@shop.example ',
        name: 'Dana',
        role: 'admin',
        password: 'a long password',
      }),
    ).toEqual({
      ok: true,
      value: { email: 'dana@shop.example', name: 'Dana', role: 'admin', password: 'a long password' },
    });
  });
});

describe('the evaluation report and figures', () => {
  it('labels metrics with their deltas, better or worse by the direction of each', () => {
    const rows = reportRows({
      metrics: {
        validationLoss: { new: 2.1, against: 2.5, delta: -0.4, better: 'lower' },
        perplexity: { new: null, against: null, delta: null, better: 'lower' },
        r1: { new: 0.3, against: 0.42, delta: -0.12, better: 'higher' },
        meanReplyWords: { new: 12, against: 10, delta: 2, better: null },
      } as never,
    });
    expect(rows.map((row) => [row.label, row.value, row.against, row.delta, row.verdict])).toEqual([
      ['Validation loss', '2.1', '2.5', '−0.4', 'better'],
      ['Ranking R@1', '30.0%', '42.0%', '−12.0 pts', 'worse'],
      ['Words per reply', '12', '10', '+2', ''],
    ]);
  });

  it('names what the report compared against', () => {
    expect(againstLabel({ kind: 'version', version: 'v1', versionId: 'x', artifactPath: '/m/v1' })).toBe(
      'v1',
    );
    expect(againstLabel({ kind: 'base', version: null, versionId: null, artifactPath: '/m/base' })).toBe(
      'the base model',
    );
  });

  it('writes numbers, durations and hyper-parameters compactly', () => {
    expect(formatNumber(0.0002)).toBe('2e-4');
    expect(formatNumber(2.34567)).toBe('2.346');
    expect(formatNumber(null)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 5 s');
    expect(formatDuration(4800)).toBe('1 h 20 min');
    expect(describeDelta({ new: 1, against: 1, delta: 0, better: 'lower' })).toEqual({
      text: '±0',
      tone: 'same',
    });
    expect(
      hyperparameterSummary({ mode: 'lora', loraRank: 8, epochs: 3, learningRate: 2e-4, batchSize: 8 }),
    ).toBe('3 epochs · lr 2e-4 · batch 8 · LoRA r8');
    expect(hyperparameterSummary({ recipe: 'seed/starter/recipe.ts' })).toBe('seed/starter/recipe.ts');
  });
});
