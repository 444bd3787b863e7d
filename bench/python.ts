/** The Python that benches compare against: the first of `python3`, `/usr/bin/python3` that imports optuna. */
import { spawnSync } from 'node:child_process';

/**
 * pyenv's `python3` may lack Debian's python3-optuna, so /usr/bin/python3 is tried too; null when neither
 * imports it. `optunaPath` (e.g. a clone of github.com/optuna/optuna: pure Python, no build) is put first on
 * PYTHONPATH, so a newer Optuna than the system's can be compared; `env` is what to run the Python with.
 */
export function findOptunaPython(optunaPath?: string): { py: string; version: string; env: NodeJS.ProcessEnv } | null {
  const env = optunaPath ? { ...process.env, PYTHONPATH: [optunaPath, process.env.PYTHONPATH].filter(Boolean).join(':') } : process.env;
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import optuna; print(optuna.__version__)'], { encoding: 'utf8', env });
    if (r.status === 0) return { py, version: r.stdout.trim(), env };
  }
  return null;
}
