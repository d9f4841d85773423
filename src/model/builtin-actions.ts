/**
 * Names of the built-in actions of seed 000 that Tasks and callbacks may name. The execution engine's action
 * registry implements them; until then a reference to one of these names is valid but nothing runs it.
 */
export const BUILTIN_ACTION_NAMES: ReadonlySet<string> = new Set([
  'exec',
  'data.insert',
  'data.delete',
  'data.truncate',
  'data.backup',
  'data.restore',
  'data.verify',
  'git.push',
  'git.pull',
  'notify.slack',
  'notify.alert',
  'notify.team',
  'service.deploy',
  'service.restart',
  'chaos.kill',
  'chaos.latency',
  'system.info',
  'docker.logs',
  'docker.restart_container',
  'jvm.status',
  'jvm.thread_dump',
  'k8s.pod_logs',
  'k8s.events',
  'k8s.scale_deployment',
]);
