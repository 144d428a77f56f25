/**
 * A zip archive of daily CSV files, streamed: each file is read from the store chunk by
 * chunk, deflated, and its bytes leave before the next chunk is read, so a year of files
 * never sits in memory and other requests are served between chunks. Built with fflate's
 * streaming Zip.
 */
import { Readable } from 'node:stream';
import { Zip, ZipDeflate } from 'fflate';

export interface ZipEntry {
  /** Name inside the archive (unique; see uniqueNames). */
  name: string;
  /** The file's contents, asked for when its turn comes and read chunk by chunk. */
  content: () => Promise<AsyncIterable<string>>;
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
    for await (const chunk of await entry.content()) {
      file.push(Buffer.from(chunk, 'utf8'));
      yield* drain();
    }
    file.push(new Uint8Array(0), true);
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
