/** Next-response ranking cases (Lowe et al. 2015): a context, candidate replies, the true one's index. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';

export const rankingCaseSchema = z
  .object({
    id: z.string().min(1),
    context: z.array(z.object({ role: z.enum(['customer', 'agent']), text: z.string() })).min(1),
    candidates: z.array(z.string().min(1)).min(2),
    answer: z.number().int().min(0),
  })
  .refine((c) => c.answer < c.candidates.length, {
    error: 'answer must index into candidates',
    path: ['answer'],
  });

export type RankingCase = z.infer<typeof rankingCaseSchema>;

export async function readRankingCases(file: string): Promise<RankingCase[]> {
  const cases: RankingCase[] = [];
  let lineNumber = 0;
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    lineNumber += 1;
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file} line ${lineNumber} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = rankingCaseSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${file} line ${lineNumber}: ${z.prettifyError(parsed.error)}`);
    cases.push(parsed.data);
  }
  return cases;
}
