/**
 * A search writing a storage while the dashboard test watches it (run as a child process):
 * `node --import tsx test/dashboard/writer.ts FILE TRIALS DELAY_MS`. Its experiment name and one
 * parameter value are HTML that must be shown as text.
 */
import { Experiment } from '../../src/core/experiment.js';
import type { Trial } from '../../src/core/trial.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { openStore } from '../../src/store/index.js';
import { RandomStrategy } from '../../src/strategy/index.js';
import { EVIL, lcObjective } from '../report/fixtures.js';

const [file, trials, delay] = process.argv.slice(2);
const store = openStore(`sqlite:${file}`);
const ev = new Nb201Evaluator();
const lc = lcObjective(ev, { evilParam: true });
const exp = Experiment.open({ store, name: EVIL, strategy: new RandomStrategy(), spaceName: 'nb201', seed: 5 });
await exp.optimize(
  async (t: Trial) => {
    await new Promise((r) => setTimeout(r, Number(delay)));
    return lc(t);
  },
  { nTrials: Number(trials) },
);
store.close();
