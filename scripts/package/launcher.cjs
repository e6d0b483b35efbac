// The single executable's main script. Node's SEA runs it as CommonJS, and `require` here reaches
// only Node's own modules. Parley is ESM with top-level await (ink 6, yoga-layout), which
// CommonJS cannot load: the bundle is a SEA asset, imported as a `data:` URL, the one kind of
// ES module an executable with no files beside it can import. A failure here is a bug of the
// package, not of a command: its stack is what a developer needs.
const { getAsset } = require('node:sea');
import(`data:text/javascript;base64,${Buffer.from(getAsset('parley.mjs')).toString('base64')}`).catch((err) => {
  process.stderr.write(`parley: the executable could not start (a bug): ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
