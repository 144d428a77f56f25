// How the organisation subtree query costs with three layouts, on SQLite and PostgreSQL
// (ADR 0016): a closure table (what the adapters use), a materialised path (range scan on
// `path`) and a recursive CTE over parent ids. A fleet of 22,211 organisations: a platform,
// 10 battery makers, 200 dealers, 2,000 installers, 20,000 customers. For each layout: the
// median ms of listing a dealer's subtree (111 organisations) and of counting a maker's
// (2,221), over 200 runs each on varying roots.
// Run: node scripts/bench-org-tree.mjs [postgres://postgres@127.0.0.1:5432]
import Database from 'better-sqlite3';
import pg from 'pg';

const PG = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432';
const orgs = [];
const add = (id, parent, depth, path) => orgs.push({ id, parent, depth, path });
add('p', null, 0, '/p/');
for (let m = 0; m < 10; m++) {
  const mid = `m${m}`;
  add(mid, 'p', 1, `/p/${mid}/`);
  for (let d = 0; d < 20; d++) {
    const did = `${mid}d${d}`;
    add(did, mid, 2, `/p/${mid}/${did}/`);
    for (let i = 0; i < 10; i++) {
      const iid = `${did}i${i}`;
      add(iid, did, 3, `/p/${mid}/${did}/${iid}/`);
      for (let c = 0; c < 10; c++)
        add(`${iid}c${c}`, iid, 4, `/p/${mid}/${did}/${iid}/${iid}c${c}/`);
    }
  }
}
const closure = [];
const byId = new Map(orgs.map((o) => [o.id, o]));
for (const o of orgs) {
  for (let a = o, k = 0; a; a = a.parent ? byId.get(a.parent) : undefined, k++)
    closure.push([a.id, o.id, k]);
}
const dealers = orgs.filter((o) => o.depth === 2).map((o) => o);
const makers = orgs.filter((o) => o.depth === 1);
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

const QUERIES = {
  sqlite: {
    closure: {
      list: 'SELECT o.id FROM orgs o WHERE o.id IN (SELECT descendant FROM org_closure WHERE ancestor = ?)',
      count:
        'SELECT count(*) AS n FROM orgs WHERE id IN (SELECT descendant FROM org_closure WHERE ancestor = ?)',
      arg: (o) => o.id,
    },
    closure_join: {
      list: 'SELECT o.id FROM org_closure c JOIN orgs o ON o.id = c.descendant WHERE c.ancestor = ?',
      count: 'SELECT count(*) AS n FROM org_closure WHERE ancestor = ?',
      arg: (o) => o.id,
    },
    path: {
      list: "SELECT id FROM orgs WHERE path >= ? AND path < ? || x'ff'",
      count: "SELECT count(*) AS n FROM orgs WHERE path >= ? AND path < ? || x'ff'",
      arg: (o) => o.path,
      two: true,
    },
    cte: {
      list: 'WITH RECURSIVE t(id) AS (SELECT ? UNION ALL SELECT o.id FROM orgs o JOIN t ON o.parent = t.id) SELECT id FROM t',
      count:
        'WITH RECURSIVE t(id) AS (SELECT ? UNION ALL SELECT o.id FROM orgs o JOIN t ON o.parent = t.id) SELECT count(*) AS n FROM t',
      arg: (o) => o.id,
    },
  },
};

function sqlite() {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE orgs (id TEXT PRIMARY KEY, parent TEXT, depth INT, path TEXT);
    CREATE INDEX orgs_parent ON orgs (parent); CREATE INDEX orgs_path ON orgs (path);
    CREATE TABLE org_closure (ancestor TEXT, descendant TEXT, depth INT, PRIMARY KEY (ancestor, descendant)) WITHOUT ROWID;`);
  const ins = db.prepare('INSERT INTO orgs VALUES (?, ?, ?, ?)');
  const cl = db.prepare('INSERT INTO org_closure VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const o of orgs) ins.run(o.id, o.parent, o.depth, o.path);
    for (const c of closure) cl.run(...c);
  })();
  db.exec('ANALYZE');
  const out = {};
  for (const [name, q] of Object.entries(QUERIES.sqlite)) {
    const list = db.prepare(q.list);
    const count = db.prepare(q.count);
    const args = (o) => (q.two ? [q.arg(o), q.arg(o)] : [q.arg(o)]);
    const n1 = list.all(...args(dealers[0])).length;
    const n2 = count.get(...args(makers[0])).n;
    if (n1 !== 111 || n2 !== 2221) throw new Error(`sqlite ${name}: ${n1} ${n2}`);
    const t1 = [],
      t2 = [];
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      list.all(...args(dealers[i % dealers.length]));
      t1.push(performance.now() - t);
      t = performance.now();
      count.get(...args(makers[i % makers.length]));
      t2.push(performance.now() - t);
    }
    out[name] = { dealer_subtree_ms: median(t1), maker_count_ms: median(t2) };
  }
  db.close();
  return out;
}

async function postgres() {
  const admin = new pg.Client({ connectionString: `${PG}/postgres` });
  await admin.connect();
  const name = `fleet_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const c = new pg.Client({ connectionString: `${PG}/${name}` });
  await c.connect();
  try {
    await c.query(`CREATE TABLE orgs (id text COLLATE "C" PRIMARY KEY, parent text COLLATE "C", depth int, path text COLLATE "C");
      CREATE INDEX orgs_parent ON orgs (parent); CREATE INDEX orgs_path ON orgs (path);
      CREATE TABLE org_closure (ancestor text COLLATE "C", descendant text COLLATE "C", depth int, PRIMARY KEY (ancestor, descendant));`);
    await c.query(
      'INSERT INTO orgs SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])',
      [
        orgs.map((o) => o.id),
        orgs.map((o) => o.parent),
        orgs.map((o) => o.depth),
        orgs.map((o) => o.path),
      ],
    );
    await c.query(
      'INSERT INTO org_closure SELECT * FROM unnest($1::text[], $2::text[], $3::int[])',
      [closure.map((r) => r[0]), closure.map((r) => r[1]), closure.map((r) => r[2])],
    );
    await c.query('ANALYZE');
    const Q = {
      closure: {
        list: 'SELECT id FROM orgs WHERE id IN (SELECT descendant FROM org_closure WHERE ancestor = $1)',
        count:
          'SELECT count(*)::int AS n FROM orgs WHERE id IN (SELECT descendant FROM org_closure WHERE ancestor = $1)',
        arg: (o) => [o.id],
      },
      closure_join: {
        list: 'SELECT o.id FROM org_closure c JOIN orgs o ON o.id = c.descendant WHERE c.ancestor = $1',
        count: 'SELECT count(*)::int AS n FROM org_closure WHERE ancestor = $1',
        arg: (o) => [o.id],
      },
      path: {
        // "C" collation: byte order, so the prefix range is exact.
        list: 'SELECT id FROM orgs WHERE path >= $1 AND path < $1 || chr(255)',
        count: 'SELECT count(*)::int AS n FROM orgs WHERE path >= $1 AND path < $1 || chr(255)',
        arg: (o) => [o.path],
      },
      cte: {
        list: 'WITH RECURSIVE t(id) AS (SELECT $1::text COLLATE "C" UNION ALL SELECT o.id FROM orgs o JOIN t ON o.parent = t.id) SELECT id FROM t',
        count:
          'WITH RECURSIVE t(id) AS (SELECT $1::text COLLATE "C" UNION ALL SELECT o.id FROM orgs o JOIN t ON o.parent = t.id) SELECT count(*)::int AS n FROM t',
        arg: (o) => [o.id],
      },
    };
    const out = {};
    for (const [k, q] of Object.entries(Q)) {
      const n1 = (await c.query(q.list, q.arg(dealers[0]))).rows.length;
      const n2 = (await c.query(q.count, q.arg(makers[0]))).rows[0].n;
      if (n1 !== 111 || n2 !== 2221) throw new Error(`postgres ${k}: ${n1} ${n2}`);
      const t1 = [],
        t2 = [];
      for (let i = 0; i < 200; i++) {
        let t = performance.now();
        await c.query(q.list, q.arg(dealers[i % dealers.length]));
        t1.push(performance.now() - t);
        t = performance.now();
        await c.query(q.count, q.arg(makers[i % makers.length]));
        t2.push(performance.now() - t);
      }
      out[k] = { dealer_subtree_ms: median(t1), maker_count_ms: median(t2) };
    }
    return out;
  } finally {
    await c.end();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const round = (o) =>
  JSON.parse(
    JSON.stringify(o, (k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)),
  );
console.log(
  JSON.stringify(
    {
      orgs: orgs.length,
      closure_rows: closure.length,
      sqlite: round(sqlite()),
      postgres: round(await postgres()),
    },
    null,
    1,
  ),
);
