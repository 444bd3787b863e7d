/** Child-process entries that work from the TypeScript sources (tsx loader) and from the built JavaScript alike. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The file `base`(.ts|.js) beside the module at `moduleUrl`, and the execArgv `fork` needs to run it. */
export function childEntry(moduleUrl: string, base: string): { file: string; execArgv: string[] } {
  const here = fileURLToPath(moduleUrl);
  const ts = here.endsWith('.ts');
  const file = path.join(path.dirname(here), `${base}${ts ? '.ts' : '.js'}`);
  if (!ts) return { file, execArgv: [] };
  const loader = createRequire(moduleUrl).resolve('tsx');
  return { file, execArgv: ['--import', pathToFileURL(loader).href] };
}
