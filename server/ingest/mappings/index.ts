/** Mappings Parley ships, by name: `--mapping demo-support-messages` or a path to a JSON file. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Mapping, parseMapping } from '../mapping.js';

export const SHIPPED_MAPPINGS = {
  /** The raw helpdesk shape `parley seed` writes: one document per message. */
  'demo-support-messages': 'demo-support-messages.json',
  /** A typical helpdesk export: one document per message, nested author and contact. */
  'helpdesk-messages': 'helpdesk-messages.json',
  /** One document per conversation with a `turns` array: the format of seed/data and `--file`. */
  conversations: 'conversations.json',
} as const;

export type ShippedMappingName = keyof typeof SHIPPED_MAPPINGS;

/** A shipped mapping by name, or a mapping JSON file by path. */
export async function loadMapping(nameOrPath: string): Promise<Mapping> {
  const shipped = SHIPPED_MAPPINGS[nameOrPath as ShippedMappingName];
  const file = shipped ? path.join(import.meta.dirname, shipped) : path.resolve(nameOrPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `No mapping file ${file}. Give a path to a JSON mapping or one of: ${Object.keys(SHIPPED_MAPPINGS).join(', ')}.`,
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`Mapping file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseMapping(json);
}
