// Runs before `npm test`: makes sure what the tests need is on this machine, so a fresh
// machine needs only the README's two commands. Installs Debian packages when run as root
// (CI, containers); otherwise names the missing package and stops. Starts the local MQTT
// broker (Mosquitto on 127.0.0.1:1883) and PostgreSQL (127.0.0.1:5432, the storage-postgres
// and CLI tests make and drop databases of their own there) when they are not running.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

const DEBIAN_PACKAGES = [
  { bin: 'socat', pkg: 'socat' }, // pseudo-terminal pairs for serial tests
  { bin: 'mbpoll', pkg: 'mbpoll' }, // a second Modbus client for the Modbus TCP server tests
  { bin: 'mosquitto', pkg: 'mosquitto' }, // the MQTT broker the integration tests use
  { bin: 'pg_ctlcluster', pkg: 'postgresql' }, // the PostgreSQL the storage-postgres tests use
  { bin: 'promtool', pkg: 'prometheus' }, // Prometheus's linter checks /metrics (promtool check metrics)
  // openpyxl (Debian's python3) opens the XLSX exports as a spreadsheet user's tools would.
  { file: '/usr/lib/python3/dist-packages/openpyxl/__init__.py', pkg: 'python3-openpyxl' },
  { bin: 'chromium', pkg: 'chromium' }, // the browser the web console tests drive (playwright-core)
  // CJK glyphs, so the Chinese pages render (and screenshot) as text, not boxes.
  { file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', pkg: 'fonts-noto-cjk' },
];

const has = (bin) =>
  spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' })
    .status === 0;
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`pretest: "${cmd} ${args.join(' ')}" failed (exit ${r.status})`);
    process.exit(1);
  }
};

const missing = DEBIAN_PACKAGES.filter((p) => (p.file ? !existsSync(p.file) : !has(p.bin)));
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

const portOpen = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

if (!(await portOpen(1883))) {
  const conf = '/etc/mosquitto/mosquitto.conf';
  const bin = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';
  console.log('pretest: starting Mosquitto on 127.0.0.1:1883');
  run(bin, existsSync(conf) ? ['-d', '-c', conf] : ['-d', '-p', '1883']);
  // Set-up, not a test: give the daemon up to 5 s to listen.
  for (let i = 0; i < 50 && !(await portOpen(1883)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await portOpen(1883))) {
    console.error('pretest: Mosquitto did not start listening on 127.0.0.1:1883');
    process.exit(1);
  }
}

// PostgreSQL: Debian's cluster (`/etc/postgresql/<version>/main`), started when nothing listens
// on 5432. The tests connect as postgres (OPENBMS_TEST_PG overrides the server URL).
if (!(await portOpen(5432))) {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) {
    console.error(
      'pretest: no PostgreSQL cluster in /etc/postgresql; install the postgresql package',
    );
    process.exit(1);
  }
  console.log(`pretest: starting PostgreSQL ${versions[0]} on 127.0.0.1:5432`);
  run('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0], 'main', 'start']);
  for (let i = 0; i < 100 && !(await portOpen(5432)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await portOpen(5432))) {
    console.error('pretest: PostgreSQL did not start listening on 127.0.0.1:5432');
    process.exit(1);
  }
}

// The CLI and browser tests run the built `openbms` binary and web console; build both
// (tsc incrementally; Vite takes a few seconds).
run(process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
run('npm', ['run', '--silent', 'build', '-w', '@openbms/web']);
