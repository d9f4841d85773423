import { DvmError } from '../../errors/dvm-error.ts';
import { BUILTIN_KINDS } from '../../model/catalog.ts';
import { OPTIONS } from '../args.ts';
import type { Command } from '../command.ts';

const VERBS =
  'get describe apply diff create delete use tree explain api-resources schema completion version run status logs cancel serve token action execution policy audit seed start stop restart deploy undeploy down help';
// Every flag of the CLI, from the one table the parser uses.
const FLAGS = Object.entries(OPTIONS)
  .flatMap(([name, option]) => ['short' in option ? `-${option.short}` : '', `--${name}`].filter(Boolean))
  .join(' ');

function kindWords(): string {
  return BUILTIN_KINDS.flatMap((k) => [k.plural, k.singular, ...k.shortNames]).join(' ');
}

function bashScript(): string {
  return `# dvm bash completion: source <(dvm completion bash)
_dvm() {
  local cur prev verb
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  verb="\${COMP_WORDS[1]}"
  case "$prev" in
    -o|--output) COMPREPLY=( $(compgen -W "table wide yaml json name" -- "$cur") ); return ;;
    -f|--filename) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    -e|--ecosystem) COMPREPLY=( $(compgen -W "$(dvm get ecosystems -o name -A 2>/dev/null | sed 's|.*/||')" -- "$cur") ); return ;;
    -d|--domain) COMPREPLY=( $(compgen -W "$(dvm get domains -o name -A 2>/dev/null | sed 's|.*/||')" -- "$cur") ); return ;;
    -a|--app) COMPREPLY=( $(compgen -W "$(dvm get apps -o name -A 2>/dev/null | sed 's|.*/||')" -- "$cur") ); return ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "${FLAGS}" -- "$cur") ); return; fi
  if [[ $COMP_CWORD -eq 1 ]]; then COMPREPLY=( $(compgen -W "${VERBS}" -- "$cur") ); return; fi
  case "$verb" in
    get|describe|delete|create|explain)
      if [[ $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=( $(compgen -W "$(dvm api-resources -o name 2>/dev/null) ${kindWords()}" -- "$cur") )
      else
        COMPREPLY=( $(compgen -W "$(dvm get "\${COMP_WORDS[2]}" -o name 2>/dev/null | sed 's|.*/||')" -- "$cur") )
      fi ;;
    use)
      if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=( $(compgen -W "ecosystem domain app workspace none" -- "$cur") )
      else COMPREPLY=( $(compgen -W "$(dvm get "\${COMP_WORDS[2]}" -o name -A 2>/dev/null | sed 's|.*/||')" -- "$cur") ); fi ;;
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ) ;;
    schema) COMPREPLY=( $(compgen -W "export" -- "$cur") ) ;;
    token) COMPREPLY=( $(compgen -W "create list revoke" -- "$cur") ) ;;
    action)
      if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=( $(compgen -W "list describe run approve" -- "$cur") )
      else COMPREPLY=( $(compgen -W "$(dvm action list -o json 2>/dev/null | sed -n 's/.*"name": "\\([^"]*\\)".*/\\1/p')" -- "$cur") ); fi ;;
    execution) COMPREPLY=( $(compgen -W "list get logs cancel" -- "$cur") ) ;;
    policy) COMPREPLY=( $(compgen -W "test list validate" -- "$cur") ) ;;
    audit) COMPREPLY=( $(compgen -W "verify export" -- "$cur") ) ;;
    seed) COMPREPLY=( $(compgen -W "datalake datastore" -- "$cur") ) ;;
  esac
}
complete -F _dvm dvm
`;
}

function zshScript(): string {
  return `#compdef dvm
# dvm zsh completion: source <(dvm completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript()}`;
}

/** `dvm completion bash|zsh`: a shell completion script. */
export const command: Command = {
  summary: 'Print a shell completion script (bash or zsh)',
  usage: `Usage: dvm completion bash|zsh

  source <(dvm completion bash)     # add to ~/.bashrc
  source <(dvm completion zsh)      # add to ~/.zshrc`,
  flags: [],
  maxArgs: 1,
  async run(ctx) {
    const [shell] = ctx.positionals;
    if (shell === 'bash') ctx.io.stdout.write(bashScript());
    else if (shell === 'zsh') ctx.io.stdout.write(zshScript());
    else
      throw new DvmError('DVM_USAGE', `unsupported shell "${shell ?? ''}"`, {
        fix: 'Run `dvm completion bash` or `dvm completion zsh`.',
      });
    return 0;
  },
};
