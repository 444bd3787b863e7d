/** The Python that benches compare against: the first of `python3`, `/usr/bin/python3` that imports optuna. */
import { spawnSync } from 'node:child_process';

/** pyenv's `python3` may lack Debian's python3-optuna, so /usr/bin/python3 is tried too; null when neither imports it. */
export function findOptunaPython(): { py: string; version: string } | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import optuna; print(optuna.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { py, version: r.stdout.trim() };
  }
  return null;
}
