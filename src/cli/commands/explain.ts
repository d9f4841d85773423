import { DvmError } from '../../errors/dvm-error.ts';
import { didYouMean } from '../../model/suggest.ts';
import type { Command } from '../command.ts';
import { kindSchema, propertiesOf, requiredOf, type SchemaNode, typeName } from '../schema-walk.ts';

/** `dvm explain KIND[.field.path]`: the documentation of a kind or a field, from its JSON Schema. */
export const command: Command = {
  summary: 'Document a kind or one of its fields (from its JSON Schema)',
  usage: `Usage: dvm explain KIND[.field.path]

  dvm explain app
  dvm explain app.spec.healthCheck
  dvm explain workflow.spec.tasks.dependsOn
  dvm explain featureflag.spec           (user-defined kinds too)`,
  flags: [],
  maxArgs: 1,
  async run(ctx) {
    const [target] = ctx.positionals;
    if (!target)
      throw new DvmError('DVM_USAGE', '`dvm explain` needs a KIND or KIND.field.path', {
        fix: 'Run `dvm explain app.spec`.',
      });
    const platform = await ctx.platform();
    const [kindName, ...path] = target.split('.');
    const info = platform.kinds.require(kindName);
    let node: SchemaNode = await kindSchema(platform, info);
    for (const [i, segment] of path.entries()) {
      const properties = propertiesOf(node);
      const next = properties[segment];
      if (!next) {
        const where = [info.kind, ...path.slice(0, i)].join('.');
        throw new DvmError(
          'DVM_NOT_FOUND',
          `field "${segment}" does not exist in ${where}${didYouMean(segment, Object.keys(properties))}`,
          {
            fix: `Run \`dvm explain ${[kindName, ...path.slice(0, i)].join('.')}\` to list its fields.`,
          },
        );
      }
      node = next;
    }
    const lines = [`KIND:     ${info.kind}`, `VERSION:  ${info.apiVersion}`];
    if (path.length > 0) lines.push('', `FIELD:    ${path.join('.')} <${typeName(node)}>`);
    lines.push('', 'DESCRIPTION:', `  ${String(node.description ?? info.description)}`);
    const properties = propertiesOf(node);
    const required = requiredOf(node);
    if (Object.keys(properties).length > 0) {
      lines.push('', 'FIELDS:');
      for (const [name, child] of Object.entries(properties)) {
        lines.push(`  ${name}\t<${typeName(child)}>${required.has(name) ? ' -required-' : ''}`);
        if (child.description) lines.push(`    ${String(child.description)}`);
      }
    }
    ctx.io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
