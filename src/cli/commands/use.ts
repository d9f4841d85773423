import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { API_VERSION, type Placement } from '../../model/api.ts';
import { applyDocuments } from '../../service/apply/apply.ts';
import { CURRENT_CONTEXT } from '../../service/context.ts';
import { innerPlacement } from '../../service/delete.ts';
import { findObject } from '../../service/query.ts';
import { scopeFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { isLegacyProject, LEGACY_PLACEMENT, PROJECT_DEPRECATION } from '../kind-args.ts';

const LEVELS = ['ecosystem', 'domain', 'app', 'workspace'];

/** `dvm use ecosystem|domain|app|workspace NAME`: select the default scope for later commands. */
export const command: Command = {
  summary: 'Select the current ecosystem, domain, app or workspace (the context)',
  usage: `Usage: dvm use ecosystem|domain|app|workspace NAME
       dvm use none            clear the selection

Selecting a level also selects its parents and clears the levels below it. -e/-d/-a/-w on any command
override the context for that command. \`dvm get context\` shows the selection.`,
  flags: [],
  maxArgs: (args) => (args[0] === 'none' ? 1 : 2),
  async run(ctx) {
    let [level, name] = ctx.positionals;
    const platform = await ctx.platform();
    let scope = await ctx.scope();
    let selection: Placement = {};
    const legacy = isLegacyProject(level);
    if (legacy) {
      ctx.io.stderr.write(PROJECT_DEPRECATION);
      level = 'app';
      scope = { ...LEGACY_PLACEMENT };
    }
    if (level !== 'none') {
      if (!LEVELS.includes(level) || !name) {
        throw new DvmError('DVM_USAGE', 'usage: dvm use ecosystem|domain|app|workspace NAME', {
          fix: 'Name a level and an object, e.g. `dvm use domain auth-domain`.',
        });
      }
      const info = platform.kinds.require(level);
      // Look everywhere the flags allow; the current context only breaks ties between same-named objects.
      const object = await findObject(
        platform.store,
        info,
        name,
        legacy ? scope : scopeFlags(ctx.flags),
      ).catch(async (error) => {
        if (isDvmError(error) && error.code === 'DVM_AMBIGUOUS')
          return findObject(platform.store, info, name, scope);
        throw error;
      });
      selection = innerPlacement(object) ?? {};
    }
    const context = {
      apiVersion: API_VERSION,
      kind: 'Context',
      metadata: { name: CURRENT_CONTEXT },
      spec: selection,
    };
    await applyDocuments(platform, [
      { file: '<dvm use>', index: 0, data: context, locate: () => ({ line: 0, column: 0 }) },
    ]);
    const shown = LEVELS.filter((l) => selection[l as keyof Placement]).map(
      (l) => `${l} ${selection[l as keyof Placement]}`,
    );
    ctx.io.stdout.write(shown.length ? `Switched to ${shown.join(', ')}.\n` : 'Cleared the context.\n');
    return 0;
  },
};
