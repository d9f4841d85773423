#!/usr/bin/env node
// Entry point of the dvm CLI: checks the Node.js version, enables the compile cache, and starts the CLI.
import module from 'node:module';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `error: DVM_NODE_VERSION: dvm needs Node.js 24 or newer, but this is ${process.version}\n` +
      '  fix: run it through npm (npx dvm …), which uses the Node 24 that `npm install` put in node_modules, or install Node 24.\n',
  );
  process.exit(1);
}
// A closed pipe (`dvm get … | head`) ends the command quietly, as it does for other Unix tools.
// Any other failure to write the output (a full disk, /dev/full) is a coded error, not a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  process.stderr.write(
    `error: DVM_IO_ERROR: cannot write the output: ${error.code ?? error.message}\n  fix: Check where the output goes (a full disk or device?).\n`,
  );
  process.exit(1);
});
// Caches compiled (and type-stripped) modules, which halves the start-up time of every command.
module.enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
