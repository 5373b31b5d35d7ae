/** The hub's model info endpoint: which files a revision holds, and the commit it resolves to. */
import { z } from 'zod';
import { HubError } from './repo.js';

export interface HubFile {
  name: string;
  /** Bytes, when the hub says (it does with ?blobs=true). */
  size?: number;
  /** sha256 of an LFS file, when the hub says. */
  sha256?: string;
}

export interface RepoRevision {
  /** The commit the revision resolved to: files are fetched from it, so a moving branch cannot mix versions. */
  sha: string;
  files: HubFile[];
}

const infoSchema = z.object({
  sha: z.string().min(1),
  siblings: z.array(
    z.object({
      rfilename: z.string(),
      size: z.number().int().nonnegative().optional(),
      lfs: z.object({ sha256: z.string().optional(), size: z.number().optional() }).nullish(),
    }),
  ),
});

export interface HubRequest {
  endpoint: string;
  token?: string;
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function fetchRepoRevision(
  hub: HubRequest,
  repo: string,
  revision: string,
): Promise<RepoRevision> {
  const url = new URL(
    `api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`,
    withSlash(hub.endpoint),
  );
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders(hub.token), signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    throw new HubError(`cannot reach ${hub.endpoint}: ${causeOf(error)}`);
  }
  if (!response.ok) throw await hubStatusError(response, repo, revision, hub);
  let info: z.infer<typeof infoSchema>;
  try {
    info = infoSchema.parse(await response.json());
  } catch (error) {
    throw new HubError(`${url.origin} answered ${repo}@${revision} with unexpected JSON: ${causeOf(error)}`);
  }
  return {
    sha: info.sha,
    files: info.siblings.map((s) => ({
      name: s.rfilename,
      size: s.lfs?.size ?? s.size,
      sha256: s.lfs?.sha256,
    })),
  };
}

async function hubStatusError(
  response: Response,
  repo: string,
  revision: string,
  hub: HubRequest,
): Promise<HubError> {
  const code = response.headers.get('x-error-code');
  await response.body?.cancel();
  if (code === 'RevisionNotFound') return new HubError(`${repo} has no revision "${revision}"`);
  if (code === 'GatedRepo' || response.status === 403) {
    return new HubError(
      `${repo} is gated: accept its terms on the hub${hub.token ? ' with the account of HF_TOKEN' : ' and set HF_TOKEN'}`,
    );
  }
  // The hub answers 401 rather than 404 for a repo it will not admit exists to an anonymous caller.
  if (response.status === 404 || response.status === 401 || code === 'RepositoryNotFound') {
    return new HubError(
      `model ${repo} not found on ${hub.endpoint}${hub.token ? '' : ' (if it is private, set HF_TOKEN)'}`,
    );
  }
  return new HubError(
    `${hub.endpoint} answered ${response.status} ${response.statusText} for ${repo}@${revision}`,
  );
}

export const withSlash = (endpoint: string) => (endpoint.endsWith('/') ? endpoint : `${endpoint}/`);

export function causeOf(error: unknown): string {
  const e = error as Error & { cause?: Error };
  return e.cause?.message ?? e.message ?? String(error);
}
