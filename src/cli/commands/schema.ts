import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Command } from '../command.ts';
import { kindSchema } from '../schema-walk.ts';

/** `dvm schema export DIR`: JSON Schemas of every kind for editors (yaml-language-server). */
export const command: Command = {
  summary: 'Export JSON Schemas of every kind for editors (yaml-language-server)',
  usage: `Usage: dvm schema export DIR

Writes DIR/<kind>.json for every kind (built-in and user-defined) and DIR/dvm.schema.json, which picks
the right schema by apiVersion and kind. Point your editor at it, e.g. first line of a YAML file:
  # yaml-language-server: $schema=DIR/dvm.schema.json`,
  flags: [],
  maxArgs: 2,
  async run(ctx) {
    const [sub, dir] = ctx.positionals;
    if (sub !== 'export' || !dir)
      throw new DvmError('DVM_USAGE', 'usage: dvm schema export DIR', {
        fix: 'Run `dvm schema export ./schemas`.',
      });
    const platform = await ctx.platform();
    const out = resolve(ctx.io.cwd, dir);
    mkdirSync(out, { recursive: true });
    const cases = [];
    for (const info of platform.kinds.all()) {
      const file = `${info.kind.toLowerCase()}.json`;
      const schema = {
        $schema: 'http://json-schema.org/draft-07/schema#',
        title: info.kind,
        ...(await kindSchema(platform, info)),
      };
      delete (schema as Record<string, unknown>).$id;
      writeFileSync(join(out, file), `${JSON.stringify(schema, null, 2)}\n`);
      cases.push({
        if: {
          properties: { apiVersion: { const: info.apiVersion }, kind: { const: info.kind } },
          required: ['apiVersion', 'kind'],
        },
        // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a promise.
        then: { $ref: `./${file}` },
      });
    }
    const index = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'DevOpsMaestro objects',
      type: 'object',
      required: ['apiVersion', 'kind', 'metadata'],
      properties: { kind: { enum: platform.kinds.all().map((k) => k.kind) } },
      allOf: cases,
    };
    writeFileSync(join(out, 'dvm.schema.json'), `${JSON.stringify(index, null, 2)}\n`);
    ctx.io.stdout.write(`Wrote ${cases.length + 1} schemas to ${out}\n`);
    return 0;
  },
};
