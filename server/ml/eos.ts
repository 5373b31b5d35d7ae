/** The end-of-sequence ids a model directory declares in config.json and generation_config.json. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

function idsOf(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((id): id is number => Number.isInteger(id) && (id as number) >= 0);
}

/** eos_token_id (a number or a list) of both files, deduplicated; missing files and fields give none. */
export async function readEosTokenIds(dir: string): Promise<number[]> {
  const ids = new Set<number>();
  for (const file of ['config.json', 'generation_config.json']) {
    const text = await readFile(path.join(dir, file), 'utf-8').catch(() => undefined);
    if (text === undefined) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      continue;
    }
    for (const id of idsOf((raw as { eos_token_id?: unknown } | null)?.eos_token_id)) ids.add(id);
  }
  return [...ids];
}
