/**
 * Hyperparameter-optimisation benchmark: every strategy on functions with a known optimum, seeded
 * repetitions, mean and median regret (best value found minus the optimum) and `ask` time per trial;
 * Optuna's TPESampler (defaults) in the same run when `python3` or `/usr/bin/python3` imports optuna
 * (Debian's python3-optuna is 3.1), and its GPSampler too when that Optuna has one (>= 3.6) and torch and
 * scipy import (Debian: python3-torch, python3-scipy); `--optuna-path <dir>` puts an Optuna source tree
 * (a clone of github.com/optuna/optuna) first on PYTHONPATH. Without a GPSampler, issue 15's Optuna 5.0
 * GPSampler figures are printed as a labelled reference (`optuna-gp*`, not run).
 *
 *   npm run bench:hpo                                   # branin (50 trials, 20 seeds), hartmann6 (100, 10), mixed (60, 10)
 *   npm run bench:hpo -- --only tpe,bo --funcs branin --seeds 5
 *   npm run bench:hpo -- --only bo --funcs hartmann6 --seeds 40 --optuna-path ~/src/optuna
 *
 * Run through the library API (`Experiment.optimize`, a declarative space, `minimize`). `ask ms` is
 * the CPU time of the strategy's `ask` (one thread), averaged over all trials and over trials 90-99
 * (`ask ms@100`); Optuna's is its wall time per trial (objective included, negligible here).
 * The last line is one JSON object: {"branin": {"tpe": {"regret_mean": ..., ...}, ...}, ...}.
 */
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { findOptunaPython } from './python.js';
import { Experiment } from '../src/core/experiment.js';
import type { Params, SearchSpace } from '../src/space/params.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy } from '../src/strategy/index.js';
import type { Strategy, StrategyContext } from '../src/core/strategy.js';

interface Problem {
  space: SearchSpace;
  f: (p: Params) => number;
  optimum: number;
  trials: number;
  seeds: number;
  /** The same function in Python, over a dict `p` of the parameters, for Optuna. */
  py: string;
}

const HA = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]];
const HP = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const HALPHA = [1, 1.2, 3, 3.2];

export const PROBLEMS: Record<string, Problem> = {
  branin: {
    space: { params: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } } },
    f: (p) => {
      const x1 = p.x1 as number;
      const x2 = p.x2 as number;
      return (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 ** 2 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
    },
    optimum: 0.397887357729739,
    trials: 50,
    seeds: 20,
    py: `def f(p):
    x1, x2 = p['x1'], p['x2']
    return (x2 - 5.1/(4*math.pi**2)*x1**2 + 5/math.pi*x1 - 6)**2 + 10*(1-1/(8*math.pi))*math.cos(x1) + 10`,
  },
  hartmann6: {
    space: { params: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }])) } as SearchSpace,
    f: (p) => {
      let s = 0;
      for (let i = 0; i < 4; i++) {
        let e = 0;
        for (let j = 0; j < 6; j++) e += HA[i]![j]! * ((p[`x${j}`] as number) - HP[i]![j]!) ** 2;
        s += HALPHA[i]! * Math.exp(-e);
      }
      return -s;
    },
    optimum: -3.32236801141551,
    trials: 100,
    seeds: 10,
    py: `HA = ${JSON.stringify(HA)}
HP = ${JSON.stringify(HP)}
HALPHA = ${JSON.stringify(HALPHA)}
def f(p):
    return -sum(HALPHA[i]*math.exp(-sum(HA[i][j]*(p['x%d' % j]-HP[i][j])**2 for j in range(6))) for i in range(4))`,
  },
  /** A training-like conditional space: optimizer (momentum only for sgd), log learning rate, int depth, stepped dropout. Optimum 0. */
  mixed: {
    space: {
      params: {
        opt: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
        lr: { type: 'float', low: 1e-5, high: 1, log: true },
        momentum: { type: 'float', low: 0, high: 1, when: { opt: ['sgd'] } },
        layers: { type: 'int', low: 1, high: 8 },
        dropout: { type: 'float', low: 0, high: 0.5, step: 0.05 },
      },
    },
    f: (p) => {
      const lr = Math.log10(p.lr as number);
      const common = ((((p.layers as number) - 4) / 4) ** 2) + ((p.dropout as number) - 0.2) ** 2;
      if (p.opt === 'adam') return (lr + 3) ** 2 / 4 + common;
      if (p.opt === 'sgd') return 0.2 + (lr + 1.5) ** 2 / 4 + ((p.momentum as number) - 0.9) ** 2 + common;
      return 0.5 + (lr + 3.5) ** 2 / 4 + common;
    },
    optimum: 0,
    trials: 60,
    seeds: 10,
    py: `def f(p):
    lr = math.log10(p['lr'])
    common = ((p['layers'] - 4) / 4) ** 2 + (p['dropout'] - 0.2) ** 2
    if p['opt'] == 'adam': return (lr + 3) ** 2 / 4 + common
    if p['opt'] == 'sgd': return 0.2 + (lr + 1.5) ** 2 / 4 + (p['momentum'] - 0.9) ** 2 + common
    return 0.5 + (lr + 3.5) ** 2 / 4 + common`,
  },
};

const STRATEGIES = ['random', 'tpe', 'bo', 'evolution', 'reinforce'];

interface Row {
  regrets: number[];
  askMs: number[];
  askMs100: number[];
}

export async function runOne(name: string, prob: Problem, seed: number, options: Record<string, unknown>): Promise<{ regret: number; askMs: number[] }> {
  const inner = createStrategy(name, options);
  const askMs: number[] = [];
  const timed: Strategy = {
    name: inner.name,
    ask: async (ctx: StrategyContext) => {
      // CPU time of the (single-threaded) ask: wall time on an idle machine, not inflated by a shared one.
      const c0 = process.cpuUsage();
      const r = await inner.ask(ctx);
      const c = process.cpuUsage(c0);
      askMs.push((c.user + c.system) / 1000);
      return r;
    },
    sampleParam: inner.sampleParam?.bind(inner),
    tell: inner.tell?.bind(inner),
  };
  const exp = Experiment.open({ store: new MemoryStore(), name: `hpo-${name}`, strategy: timed, space: prob.space, directions: ['minimize'], seed });
  await exp.optimize((t) => prob.f(t.params), { nTrials: prob.trials });
  return { regret: exp.bestTrial()!.values![0]! - prob.optimum, askMs };
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Optuna 5.0.0 GPSampler, mean regret, same functions and seeds (issue 15; about 1 s per ask): printed as a reference when no GPSampler can run. */
const OPTUNA_GP_REF: Record<string, number> = { branin: 0.0001, hartmann6: 0.0005 };

/**
 * Whether this Optuna can run its GPSampler here. Optuna >= 4.x enters `with torch.device("cpu")`, a
 * context manager only from torch 2.0; with an older torch (Debian 12's is 1.13) the script below gives
 * the sampler module a `torch` whose `device(...)` is a no-op context (CPU is the default anyway).
 */
const GP_PROBE = `import optuna, torch, scipy
assert hasattr(optuna.samplers, 'GPSampler')`;
const GP_SHIM = `import contextlib, types, torch
import optuna.samplers._gp.sampler as _gps
if not hasattr(torch.device('cpu'), '__enter__'):
    _gps.torch = types.SimpleNamespace(**{k: getattr(torch, k) for k in dir(torch) if not k.startswith('__')})
    _gps.torch.device = lambda *a, **k: contextlib.nullcontext()`;

/** Optuna's default TPESampler (and GPSampler when it runs here) on the same problems and seeds; null when optuna is not importable. */
function optuna(probs: [string, Problem][], seedsOf: (p: Problem) => number, first: number, optunaPath?: string): Record<string, Record<string, Row>> | null {
  const found = findOptunaPython(optunaPath);
  if (!found) return null;
  const gp = spawnSync(found.py, ['-c', GP_PROBE], { encoding: 'utf8', env: found.env }).status === 0;
  console.log(`optuna ${found.version} (${found.py}${optunaPath ? `, PYTHONPATH ${optunaPath}` : ''}): TPESampler(seed=s) defaults, same seeds`);
  console.log(gp ? 'optuna GPSampler(seed=s) defaults: run (optuna-gp)' : 'optuna GPSampler: not run (needs Optuna >= 3.6 with torch and scipy; see --optuna-path)');
  const samplers: [string, string][] = [['optuna-tpe', 'TPESampler']];
  if (gp) samplers.push(['optuna-gp', 'GPSampler']);
  const specPy = (s: SearchSpace) =>
    Object.entries(s.params)
      .map(([k, sp]) => {
        const cond = sp.when ? `if ${Object.entries(sp.when).map(([pk, vs]) => `p[${JSON.stringify(pk)}] in ${JSON.stringify(vs)}`).join(' and ')}:\n        ` : '';
        if (sp.type === 'categorical') return `    ${cond}p[${JSON.stringify(k)}] = t.suggest_categorical(${JSON.stringify(k)}, ${JSON.stringify(sp.choices)})`;
        const fn = sp.type === 'int' ? 'suggest_int' : 'suggest_float';
        const extra = sp.log ? ', log=True' : sp.step !== undefined ? `, step=${sp.step}` : '';
        return `    ${cond}p[${JSON.stringify(k)}] = t.${fn}(${JSON.stringify(k)}, ${sp.low}, ${sp.high}${extra})`;
      })
      .join('\n');
  const out: Record<string, Record<string, Row>> = {};
  for (const [fname, prob] of probs) for (const [label, sampler] of samplers) {
    const script = `import math, json, time, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
${sampler === 'GPSampler' ? GP_SHIM : ''}
${prob.py}
def objective(t):
    p = {}
${specPy(prob.space)}
    return f(p)
res = []
for seed in range(${first}, ${first + seedsOf(prob)}):
    st = optuna.create_study(direction='minimize', sampler=optuna.samplers.${sampler}(seed=seed))
    t0 = time.perf_counter()
    st.optimize(objective, n_trials=${prob.trials})
    res.append({'regret': st.best_value - (${prob.optimum}), 'ms': 1000 * (time.perf_counter() - t0) / ${prob.trials}})
print(json.dumps(res))`;
    const r = spawnSync(found.py, ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...found.env, OMP_NUM_THREADS: '1' } });
    if (r.status !== 0) {
      console.log(`optuna ${sampler} failed on ${fname}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
      continue;
    }
    const rows = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { regret: number; ms: number }[];
    (out[fname] ??= {})[label] = { regrets: rows.map((x) => x.regret), askMs: rows.map((x) => x.ms), askMs100: [] };
  }
  return out;
}

async function main() {
  const cmd = new Command()
    .option('--only <list>', 'strategies, comma-separated', STRATEGIES.join(','))
    .option('--funcs <list>', 'problems, comma-separated', Object.keys(PROBLEMS).join(','))
    .option('--seeds <n>', 'seeds per problem (default: 20 branin, 10 hartmann6, 10 mixed)')
    .option('--options <json>', 'strategy options, e.g. \'{"nCandidates": 48}\' (given to every strategy of --only)', '{}')
    .option('--first-seed <n>', 'seeds are first-seed .. first-seed + seeds - 1', '0')
    .option('--no-optuna', 'skip Optuna')
    .option('--optuna-path <dir>', 'an Optuna source tree to put first on PYTHONPATH (e.g. a clone of github.com/optuna/optuna, for its GPSampler)')
    .parse();
  const o = cmd.opts<{ only: string; funcs: string; seeds?: string; firstSeed: string; options: string; optuna: boolean; optunaPath?: string }>();
  const first = Number(o.firstSeed);
  const options = JSON.parse(o.options) as Record<string, unknown>;
  const names = o.only.split(',').filter(Boolean);
  const probs = o.funcs.split(',').map((f) => {
    const p = PROBLEMS[f];
    if (!p) throw new Error(`tsnas: --funcs: unknown problem "${f}"; choose from ${Object.keys(PROBLEMS).join(', ')}`);
    return [f, p] as [string, Problem];
  });
  const seedsOf = (p: Problem) => (o.seeds ? Number(o.seeds) : p.seeds);
  const json: Record<string, Record<string, { regret_mean: number; regret_median: number; runs_above_0_01: number; ask_ms: number; ask_ms_at_100?: number }>> = {};
  const opt = o.optuna ? optuna(probs, seedsOf, first, o.optunaPath) : null;
  if (!opt) console.log(o.optuna ? 'optuna: not importable (python3 and /usr/bin/python3 -c "import optuna" failed); its column is skipped' : 'optuna: skipped (--no-optuna)');
  for (const [fname, prob] of probs) {
    const rows: Record<string, Row> = {};
    for (const name of names) {
      const row: Row = { regrets: [], askMs: [], askMs100: [] };
      for (let seed = first; seed < first + seedsOf(prob); seed++) {
        const r = await runOne(name, prob, seed, options);
        row.regrets.push(r.regret);
        row.askMs.push(...r.askMs);
        row.askMs100.push(...r.askMs.slice(90, 100));
      }
      rows[name] = row;
    }
    Object.assign(rows, opt?.[fname] ?? {});
    const ref = rows['optuna-tpe'] ? mean(rows['optuna-tpe'].regrets) : null;
    console.log(`\n${fname}: ${prob.trials} trials, seeds ${first}-${first + seedsOf(prob) - 1}, regret = best - optimum (minimise)`);
    console.log(`${'strategy'.padEnd(12)} ${'mean'.padStart(10)} ${'median'.padStart(10)} ${'>0.01'.padStart(6)} ${'vs optuna'.padStart(10)} ${'ask ms'.padStart(8)} ${'ask ms@100'.padStart(10)}`);
    json[fname] = {};
    for (const [name, r] of Object.entries(rows)) {
      const m = mean(r.regrets);
      const vs = ref === null ? '-' : `${(m / ref).toFixed(3)}x`;
      const at100 = r.askMs100.length ? mean(r.askMs100).toFixed(1) : '-';
      const far = r.regrets.filter((x) => x > 0.01).length;
      console.log(`${name.padEnd(12)} ${m.toPrecision(3).padStart(10)} ${median(r.regrets).toPrecision(3).padStart(10)} ${String(far).padStart(6)} ${vs.padStart(10)} ${mean(r.askMs).toFixed(1).padStart(8)} ${at100.padStart(10)}`);
      json[fname]![name] = { regret_mean: m, regret_median: median(r.regrets), runs_above_0_01: far, ask_ms: mean(r.askMs), ...(r.askMs100.length ? { ask_ms_at_100: mean(r.askMs100) } : {}) };
    }
    const gp = OPTUNA_GP_REF[fname];
    if (gp !== undefined && o.seeds === undefined && first === 0 && !rows['optuna-gp']) {
      const vs = ref === null ? '-' : `${(gp / ref).toFixed(3)}x`;
      console.log(`${'optuna-gp*'.padEnd(12)} ${gp.toPrecision(3).padStart(10)} ${'-'.padStart(10)} ${'-'.padStart(6)} ${vs.padStart(10)} ${'~1000'.padStart(8)} ${'-'.padStart(10)}   (* Optuna 5.0.0 GPSampler, reference from issue 15, not run here)`);
    }
  }
  console.log(JSON.stringify(json));
}

if (process.argv[1]?.endsWith("hpo.ts")) await main();
