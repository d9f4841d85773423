import { DvmError } from '../errors/dvm-error.ts';
import type { KindInfo } from '../model/catalog.ts';
import type { KindRegistry } from '../model/kind-registry.ts';

/** Kinds named by the first argument(s) and what is left: `apps`, `app,domain`, or the seed's `nvim plugins`. */
export function takeKinds(
  positionals: string[],
  kinds: KindRegistry,
  verb: string,
): { infos: KindInfo[]; rest: string[] } {
  const [first, second, ...others] = positionals;
  if (!first) {
    throw new DvmError('DVM_USAGE', `\`dvm ${verb}\` needs a kind`, {
      fix: `Run \`dvm ${verb} KIND\`; \`dvm api-resources\` lists the kinds.`,
    });
  }
  // `dvm get nvim plugins`, `dvm get terminal themes`: two words for one kind.
  if (second && (first === 'nvim' || first === 'terminal')) {
    const joined = kinds.lookup(`${first}${second}`);
    if (joined) return { infos: [joined], rest: others };
  }
  const infos = first
    .split(',')
    .filter(Boolean)
    .map((name) => kinds.require(name));
  return { infos, rest: positionals.slice(1) };
}

/** True when the name is the legacy `project`/`projects` (seed 000, Migration Path). */
export function isLegacyProject(name: string | undefined): boolean {
  return name === 'project' || name === 'projects';
}

/** The deprecation warning for legacy project commands. */
export const PROJECT_DEPRECATION =
  'warning: "project" is deprecated and now means an App in the "default" domain of the "default" ecosystem; use `dvm create app` / `dvm get apps`\n';

/** Where legacy projects live. */
export const LEGACY_PLACEMENT = { ecosystem: 'default', domain: 'default' } as const;
