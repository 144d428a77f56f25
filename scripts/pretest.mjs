// Runs before `npm test`: makes sure what the tests need is on this machine, so a fresh
// machine needs only the README's two commands. Installs Debian packages when run as root
// (CI, containers); otherwise names the missing package and stops.
import { spawnSync } from 'node:child_process';

const DEBIAN_PACKAGES = [{ bin: 'socat', pkg: 'socat' }]; // pseudo-terminal pairs for serial tests

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`pretest: "${cmd} ${args.join(' ')}" failed (exit ${r.status})`);
    process.exit(1);
  }
};

const missing = DEBIAN_PACKAGES.filter((p) => !has(p.bin));
if (missing.length) {
  const names = missing.map((p) => p.pkg);
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`pretest: installing ${names.join(' ')}`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', ...names]);
  } else {
    console.error(
      `pretest: the tests need ${names.join(', ')}; install with: sudo apt-get install -y ${names.join(' ')}`,
    );
    process.exit(1);
  }
}

// The CLI tests run the built `openbms` binary once; build incrementally.
run(process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
