import { isAbsolute } from 'node:path';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { ActionContext, ActionDefinition, LogSink } from '../action.ts';
import { runProcess } from '../process.ts';

/** Input of git.push and git.pull. */
export type GitInput = {
  /** Remote name or URL (default origin). */
  remote?: string;
  /** Branch (default the checked-out branch). */
  branch?: string;
  /** Repository directory, relative to the context's workdir (default the workdir). */
  repo?: string;
};

/** Output of git.push and git.pull. */
export type GitOutput = { remote: string; branch: string; commit: string };

/** Remote and branch names: no leading `-` (never an option of git), no whitespace. */
export const GIT_NAME_PATTERN = '^[^-\\s][^\\s]*$';

const GIT_INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    remote: {
      type: 'string',
      pattern: GIT_NAME_PATTERN,
      default: 'origin',
      description: 'Remote name or URL.',
    },
    branch: {
      type: 'string',
      pattern: GIT_NAME_PATTERN,
      description: 'Branch; default the checked-out one.',
    },
    repo: {
      type: 'string',
      minLength: 1,
      description: 'Repository directory; default the working directory.',
    },
  },
} as const;

const GIT_OUTPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['remote', 'branch', 'commit'],
  properties: {
    remote: { type: 'string' },
    branch: { type: 'string' },
    commit: { type: 'string', description: 'HEAD after the command (git rev-parse HEAD).' },
  },
} as const;

// Bytes of git's output kept for error messages.
const TAIL_BYTES = 16 * 1024;
const TAIL_LINES = 8;

/** Keeps the end of what git prints (and passes it on to the task log when asked). */
function captureLog(forward?: LogSink) {
  const kept = { stdout: '', stderr: '' };
  const sink: LogSink = {
    write(stream, chunk) {
      forward?.write(stream, chunk);
      const text = kept[stream] + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      kept[stream] = text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text;
    },
  };
  return { sink, kept };
}

function hintFor(stderr: string): string {
  if (/terminal prompts disabled|could not read Username|Permission denied \(publickey/i.test(stderr)) {
    return 'git needs credentials and dvm never prompts: set up a credential helper or an SSH key for this remote.';
  }
  if (/does not appear to be a git repository|No such remote|Could not read from remote/i.test(stderr)) {
    return 'Check the remote name or URL (`git remote -v` in the repository).';
  }
  if (/not a git repository/i.test(stderr))
    return 'Point `repo:` (or the working directory) at a git repository.';
  if (/non-fast-forward|fetch first|rejected/i.test(stderr)) {
    return 'The remote has commits this repository lacks: pull (and merge or rebase) first, then push.';
  }
  if (/Not possible to fast-forward|diverg/i.test(stderr)) {
    return 'Local and remote history diverged; dvm only fast-forwards: merge or rebase by hand.';
  }
  if (/src refspec .* does not match any|couldn't find remote ref/i.test(stderr)) {
    return 'Check the branch name: it must exist locally (push) or on the remote (pull).';
  }
  return 'Read the message of git above, and run the same git command in the repository to fix it.';
}

// A `repo` that is not a directory: the code of a missing workdir, told in terms of the `repo` param (git.* have no
// `workdir:`) and of what a relative path was resolved against. Without `repo` the missing directory is the
// context's own (a Task's workdir) and its error stays as it is.
function repoMissing(error: DvmError, repo: string, context: ActionContext): DvmError {
  const dir = String(error.details.workdir ?? repo);
  const prefix = `working directory ${dir} `;
  const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : 'is not usable';
  const here = isAbsolute(repo) ? '' : `, here ${context.workdir}`;
  return new DvmError('DVM_WORKDIR_NOT_FOUND', `repo ${repo}${dir !== repo ? ` (${dir})` : ''} ${problem}`, {
    fix: `Point the \`repo\` param at the directory of a git repository (clone it first if it is missing). A relative repo is resolved against the working directory the action runs in${here}: the current directory of \`dvm action run\`, the directory \`dvm serve\` was started in, or a Task's workdir.`,
    details: { ...error.details, origin: 'user', param: 'repo', repo },
  });
}

/** Runs `git ARGS` (argv, no shell, never prompting) in the repository; returns its stdout trimmed. */
async function git(
  args: string[],
  input: GitInput,
  context: ActionContext,
  forward: boolean,
): Promise<string> {
  const { sink, kept } = captureLog(forward ? context.log : undefined);
  try {
    await runProcess(['git', ...args], context, {
      workdir: input.repo,
      env: { GIT_TERMINAL_PROMPT: '0' },
      log: sink,
      label: `git ${args.join(' ')}`,
    });
    return kept.stdout.trim();
  } catch (error) {
    if (isDvmError(error) && error.code === 'DVM_WORKDIR_NOT_FOUND' && input.repo !== undefined)
      throw repoMissing(error, input.repo, context);
    if (!isDvmError(error) || error.code !== 'DVM_TASK_FAILED' || error.details.origin !== 'user')
      throw error;
    const lines = kept.stderr.trimEnd().split('\n').slice(-TAIL_LINES);
    const status =
      error.details.exitCode !== undefined
        ? `exit ${error.details.exitCode}`
        : `signal ${error.details.signal}`;
    throw new DvmError(
      'DVM_GIT_FAILED',
      `git ${args.join(' ')} failed (${status}): ${lines.join('\n')}`.trimEnd(),
      {
        fix: hintFor(kept.stderr),
        details: { ...error.details, origin: 'user', stderr: lines.join('\n') },
      },
    );
  }
}

async function currentBranch(input: GitInput, context: ActionContext): Promise<string> {
  try {
    return await git(['symbolic-ref', '--short', '-q', 'HEAD'], input, context, false);
  } catch (error) {
    if (isDvmError(error) && error.code === 'DVM_GIT_FAILED' && error.details.exitCode === 1) {
      throw new DvmError('DVM_GIT_FAILED', 'HEAD is detached: there is no current branch to use', {
        fix: 'Give `branch:` explicitly, or check out a branch in the repository.',
        details: { origin: 'user' },
      });
    }
    throw error;
  }
}

function gitAction(verb: 'push' | 'pull', description: string): ActionDefinition<GitInput, GitOutput> {
  return {
    name: `git.${verb}`,
    version: '1.0.0',
    description,
    risk: 'write',
    inputSchema: GIT_INPUT_SCHEMA,
    outputSchema: GIT_OUTPUT_SCHEMA,
    async handler(input, context) {
      const remote = input.remote ?? 'origin';
      const branch = input.branch ?? (await currentBranch(input, context));
      const args = verb === 'push' ? ['push', remote, branch] : ['pull', '--ff-only', remote, branch];
      await git(args, input, context, true);
      const commit = await git(['rev-parse', 'HEAD'], input, context, false);
      return { remote, branch, commit };
    },
  };
}

/** `git.push`: pushes a branch (default the checked-out one) to a remote (default origin). */
export const gitPushAction = gitAction(
  'push',
  'Pushes a branch (default the checked-out one) to a remote (default origin); never prompts.',
);

/** `git.pull`: fast-forwards the checked-out branch from a remote branch (default the same name on origin). */
export const gitPullAction = gitAction(
  'pull',
  'Pulls a branch from a remote (default origin), fast-forward only; never prompts.',
);
