import { DvmError } from '../../errors/dvm-error.ts';
import type { CommandContext } from '../command.ts';

/**
 * The `-o` a command was given, checked against the forms it prints (the first is the default): any other is
 * DVM_USAGE naming the command, never plain text printed as if it were what was asked for.
 */
export function outputChoice<T extends string>(
  ctx: CommandContext,
  forms: readonly [T, ...T[]],
  command: string,
): T {
  const given = ctx.flags.output;
  if (given === undefined) return forms[0];
  if ((forms as readonly string[]).includes(given)) return given as T;
  throw new DvmError('DVM_USAGE', `${command} prints ${forms.join(' or ')}, not -o ${given}`, {
    fix: `Use ${forms.map((f) => `-o ${f}`).join(' or ')} (or leave -o out).`,
  });
}
