import { it } from 'vitest';
import { bench } from './bench.js';
it('x', async () => { process.stderr.write('FIG ' + JSON.stringify(await bench()) + '\n'); });
