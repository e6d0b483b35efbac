// The single executable's entry: start the program at once. cli.ts starts itself only when it is
// the main module, which a bundle started from a `data:` URL never is (see build.mjs).
import { runAsProgram } from '../../src/cli.js';

runAsProgram();
