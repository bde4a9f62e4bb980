// Builds the console (/), the API reference (/docs) and GraphiQL (/graphiql) into target/web,
// which Maven copies into the jar's web/ folder (pom.xml); ai.arches.http.StaticAssets serves it.
// Every asset gets a content-hashed name and is written beside its brotli (.br) and gzip (.gz)
// forms, compressed here at the highest levels so the server never compresses them. The pages
// reference the hashed names; manifest.json lists every file the server should load.
// Usage: node build.mjs [outdir]   (default ../target/web)
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, process.argv[2] ?? '../target/web');
const src = (p) => path.join(here, 'src', p);

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });

const common = {
  bundle: true,
  minify: true,
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  chunkNames: 'assets/[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
};

/** Copies a file into assets/ under a name carrying its content hash; returns that relative name. */
function copyHashed(file, base, ext) {
  return writeHashed(readFileSync(file), base, ext);
}

function writeHashed(bytes, base, ext) {
  const name = `assets/${base}-${createHash('sha256').update(bytes).digest('hex').slice(0, 10)}${ext}`;
  writeFileSync(path.join(out, name), bytes);
  return name;
}

/** The served path of each entry point's JS and CSS outputs, by entry name. */
function outputs(result) {
  const byName = {};
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const name = path.basename(file).replace(/-[A-Z0-9]+\.js$/, '');
    byName[name] = { js: '/' + path.relative(out, file) };
    if (meta.cssBundle) byName[name].css = '/' + path.relative(out, meta.cssBundle);
  }
  return byName;
}

// The console: Preact, one script and one stylesheet (the first page's whole weight).
const consoleBuild = outputs(await esbuild.build({
  ...common,
  entryPoints: { console: src('console/main.jsx') },
  format: 'esm',
  jsx: 'automatic',
  jsxImportSource: 'preact',
}));

// The API reference: Redoc's standalone bundle as published (a UMD script setting window.Redoc),
// then a script of ours that starts it (no inline script). Its one outside address, the
// "API docs by Redocly" logo, points at our own icon instead: the page loads nothing from elsewhere.
const iconName = copyHashed(src('favicon.svg'), 'favicon', '.svg');
const redocSource = readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'), 'utf8');
const redocName = writeHashed(redocSource.replaceAll('https://cdn.redoc.ly/redoc/logo-mini.svg', '/' + iconName),
  'redoc.standalone', '.js');
writeFileSync(path.join(out, redocName + '.LICENSE.txt'),
  readFileSync(require.resolve('redoc/bundles/redoc.standalone.js.LICENSE.txt')));
const docsBuild = outputs(await esbuild.build({
  ...common,
  entryPoints: { docs: src('docs/docs.js') },
  format: 'iife',
}));

// GraphiQL: Monaco's editor, JSON and GraphQL workers are separate scripts it starts by URL.
const workers = outputs(await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  format: 'iife',
}));
const graphiqlBuild = outputs(await esbuild.build({
  ...common,
  entryPoints: { graphiql: src('graphiql/main.jsx') },
  format: 'esm',
  jsx: 'automatic',
  define: {
    ...common.define,
    ARCHES_MONACO_WORKERS: JSON.stringify({
      editor: workers['editor.worker'].js,
      json: workers['json.worker'].js,
      graphql: workers['graphql.worker'].js,
    }),
  },
}));


const slots = {
  favicon: '/' + iconName,
  'redoc.js': '/' + redocName,
  'console.js': consoleBuild.console.js,
  'console.css': consoleBuild.console.css,
  'docs.js': docsBuild.docs.js,
  'docs.css': docsBuild.docs.css,
  'graphiql.js': graphiqlBuild.graphiql.js,
  'graphiql.css': graphiqlBuild.graphiql.css,
};
for (const page of ['index.html', 'docs.html', 'graphiql.html']) {
  const html = readFileSync(src(page), 'utf8').replace(/\{\{([\w.]+)\}\}/g, (m, key) => {
    if (!slots[key]) throw new Error(`${page}: no asset for ${m}`);
    return slots[key];
  });
  writeFileSync(path.join(out, page), html);
}

// Precompress every file and list them all.
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else files.push(path.relative(out, full).split(path.sep).join('/'));
  }
})(out);
const sizes = {};
for (const f of files) {
  const raw = readFileSync(path.join(out, f));
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(path.join(out, f + '.br'), br);
  writeFileSync(path.join(out, f + '.gz'), gz);
  sizes[f] = { raw: raw.length, gzip: gz.length, br: br.length };
}
writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ files }, null, 1) + '\n');

// What each page's scripts weigh over the wire (the console's first page has a 150 KiB budget).
const kib = (n) => (n / 1024).toFixed(1) + ' KiB';
const weigh = (prefixes) => files.filter((f) => f.endsWith('.js') && prefixes.some((p) => f.startsWith(p)))
  .reduce((a, f) => ({ raw: a.raw + sizes[f].raw, gzip: a.gzip + sizes[f].gzip, br: a.br + sizes[f].br }),
    { raw: 0, gzip: 0, br: 0 });
for (const [page, prefixes] of [
  ['console (/)', ['assets/console-']],
  ['docs (/docs, with Redoc)', ['assets/docs-', 'assets/redoc.standalone-']],
  ['graphiql (/graphiql, with its workers)', ['assets/graphiql-', 'assets/editor.worker-', 'assets/json.worker-', 'assets/graphql.worker-']],
]) {
  const w = weigh(prefixes);
  console.log(`web: ${page} JavaScript ${kib(w.raw)} raw, ${kib(w.gzip)} gzip, ${kib(w.br)} brotli`);
}
console.log(`web: ${files.length} files in ${path.relative(process.cwd(), out) || out}`);
