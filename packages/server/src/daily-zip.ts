/**
 * A zip archive of daily CSV files, streamed: one file is rendered and deflated at a time
 * and its bytes leave before the next is read, so a year of files never sits in memory
 * and other requests are served between files. Built with fflate's streaming Zip.
 */
import { Readable } from 'node:stream';
import { Zip, ZipDeflate } from 'fflate';

export interface ZipEntry {
  /** Name inside the archive (unique; see uniqueNames). */
  name: string;
  /** Renders the file's contents when its turn comes. */
  content: () => string;
}

/**
 * Makes names unique inside one archive: pack ids that differ only in characters a file
 * name cannot hold ("a/b" and "a_b") would otherwise collide; the later one gets "-2".
 */
export function uniqueNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let i = 2; used.has(candidate); i++) candidate = name.replace(/(\.[^.]*)?$/, `-${i}$1`);
    used.add(candidate);
    return candidate;
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function* zipChunks(entries: readonly ZipEntry[], mtime: Date): AsyncGenerator<Buffer> {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else out.push(chunk);
  });
  const drain = function* (): Generator<Buffer> {
    if (failure) throw failure;
    for (const c of out.splice(0)) yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  };
  for (const entry of entries) {
    const file = new ZipDeflate(entry.name, { level: 6 });
    file.mtime = mtime;
    zip.add(file);
    file.push(Buffer.from(entry.content(), 'utf8'), true);
    yield* drain();
    await nextTurn();
  }
  zip.end();
  yield* drain();
}

/** The archive as a byte stream (for reply.send); entries are read in the order given. */
export function zipStream(entries: readonly ZipEntry[], mtime: Date): Readable {
  return Readable.from(zipChunks(entries, mtime), { objectMode: false });
}
