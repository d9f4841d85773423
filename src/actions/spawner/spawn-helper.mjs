// A small process that starts commands for dvm. fork() copies the page tables of the process that calls it, so a
// process this small starts a command faster than dvm itself could; two of them start commands on two cores at
// once. Plain JavaScript on purpose: loading the TypeScript stripper would make it bigger, and slower to fork.
//
// Messages from dvm:  {t: 'env', id, env}                      an environment, sent once and then named by id
//                     {t: 'forget', id}                        an environment no longer used
//                     {t: 'spawn', id, argv, cwd, env, log}    start argv (env: an id, or the environment itself)
//                                                              in its own session, output into log
//                                                              (error code ELOGOPEN: the log could not be opened)
// Messages to dvm:    {t: 'ready'} once, then per spawn either {t: 'exit', id, pid, code, signal} (preceded by
//                     {t: 'pid', id, pid} when it runs longer than PID_DELAY_MS), or {t: 'error', id, code, message}.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const envs = new Map();
// How long a command runs before its pid is sent on its own (dvm needs it to stop the command, or its group).
const PID_DELAY_MS = 5;

function start(m) {
  let fd;
  try {
    fd = openSync(m.log, 'a');
  } catch (error) {
    // Its own code: the log's ENOENT is not a missing program.
    process.send({ t: 'error', id: m.id, code: 'ELOGOPEN', message: `${m.log}: ${error.message}` });
    return;
  }
  try {
    const child = spawn(m.argv[0], m.argv.slice(1), {
      cwd: m.cwd,
      env: typeof m.env === 'number' ? envs.get(m.env) : m.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.on('error', (error) => {
      child.removeAllListeners();
      process.send({ t: 'error', id: m.id, code: error.code, message: error.message });
    });
    if (child.pid === undefined) return; // 'error' follows
    // Most commands end within milliseconds: their pid then comes with their end, in one message instead of two.
    const pid = child.pid;
    const tellPid = setTimeout(() => process.send({ t: 'pid', id: m.id, pid }), PID_DELAY_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(tellPid);
      child.removeAllListeners();
      child.on('error', () => {});
      process.send({ t: 'exit', id: m.id, pid, code, signal });
    });
  } catch (error) {
    process.send({ t: 'error', id: m.id, code: error.code ?? 'EINVAL', message: error.message });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

process.on('message', (m) => {
  if (m.t === 'env') envs.set(m.id, m.env);
  else if (m.t === 'forget') envs.delete(m.id);
  else if (m.t === 'spawn') start(m);
});
// Ctrl-C, Ctrl-\, a hang-up and SIGTERM (`timeout`, CI runners) reach dvm's whole process group: dvm decides what
// happens to the commands (it stops this helper with SIGKILL).
for (const signal of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {});
// dvm went away (exit, crash, SIGKILL): so does this helper. The commands it started run on in their sessions.
process.on('disconnect', () => process.exit(0));
process.send({ t: 'ready' });
