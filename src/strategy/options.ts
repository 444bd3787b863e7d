/**
 * The one check of strategy options (`--options`, `createStrategy`): every key must be one the
 * strategy knows, every value of the right kind and range; the message names the option and the fix.
 */
type Rule = 'int>=0' | 'int>=1' | 'num>0' | 'num>=0' | 'num' | 'frac' | 'bool' | 'budgets' | 'any' | readonly string[];

const SCHEDULER: Record<string, Rule> = { budgets: 'budgets', minBudget: 'num>0', maxBudget: 'num>0', eta: 'num>0', integer: 'bool', s: 'int>=0', n0: 'int>=1' };

const RULES: Record<string, Record<string, Rule>> = {
  random: { dedupe: 'bool', maxRetries: 'int>=0' },
  grid: { floatPoints: 'int>=1', ordered: 'bool' },
  tpe: {
    nStartup: 'int>=0',
    nCandidates: 'int>=1',
    gamma: 'frac',
    maxGood: 'int>=1',
    priorWeight: 'num>=0',
    multivariate: 'bool',
    bandwidth: ['fixed', 'scott', 'neighbour'],
    bandwidthFactor: 'num>0',
    minBandwidth: 'any',
  },
  bo: {
    nStartup: 'int>=0',
    model: ['auto', 'discrete', 'mixed'],
    nRaw: 'int>=1',
    nStarts: 'int>=1',
    maxIter: 'int>=1',
    warmStart: 'bool',
    escape: 'bool',
    acquisition: ['auto', 'ei', 'ucb', 'thompson'],
    xi: 'num>=0',
    beta: 'num>=0',
    maxTrain: 'int>=1',
    subsetSize: 'int>=1',
    exhaustiveLimit: 'int>=0',
    nRandom: 'int>=1',
    localRounds: 'int>=0',
    maxExact: 'int>=1',
    refitEvery: 'int>=1',
    transform: ['copula', 'none'],
  },
  evolution: { populationSize: 'int>=1', sampleSize: 'int>=1', removal: ['oldest', 'worst'], crossover: 'frac', sigma: 'num>=0', maxRetries: 'int>=0' },
  reinforce: {
    controller: ['factorized', 'lstm'],
    learningRate: 'num>0',
    emaMomentum: 'frac',
    entropyWeight: 'num>=0',
    bins: 'int>=1',
    hidden: 'int>=1',
    embedding: 'int>=1',
    dedupe: 'bool',
    maxRetries: 'int>=0',
  },
  sh: SCHEDULER,
  hyperband: SCHEDULER,
  asha: SCHEDULER,
  bohb: { ...SCHEDULER, model: 'any', randomFraction: 'frac', minPoints: 'int>=1' },
};

function fails(rule: Rule, v: unknown): string | null {
  if (rule === 'any') return null;
  if (Array.isArray(rule)) return rule.includes(v as string) ? null : `use one of ${rule.join(', ')}`;
  if (rule === 'bool') return typeof v === 'boolean' ? null : 'give true or false';
  if (rule === 'budgets') return Array.isArray(v) && v.every((b) => typeof b === 'number' && Number.isFinite(b)) ? null : 'give an increasing list of numbers, e.g. [1, 3, 9]';
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'give a number';
  switch (rule) {
    case 'int>=0':
      return Number.isInteger(v) && v >= 0 ? null : 'give a whole number >= 0';
    case 'int>=1':
      return Number.isInteger(v) && v >= 1 ? null : 'give a whole number >= 1';
    case 'num>0':
      return v > 0 ? null : 'give a number > 0';
    case 'num>=0':
      return v >= 0 ? null : 'give a number >= 0';
    case 'frac':
      return v >= 0 && v <= 1 ? null : 'give a number from 0 to 1';
    default:
      return null;
  }
}

/** The first problem with `options` for strategy `name`, as one line; null when they are fine or the strategy is not built in. */
export function strategyOptionsProblem(name: string, options: Record<string, unknown>): string | null {
  const rules = RULES[name];
  if (!rules) return null; // a registered custom strategy checks its own
  for (const [key, v] of Object.entries(options)) {
    const rule = rules[key];
    if (!rule) {
      const known = Object.keys(rules);
      return `--options ${key}: not an option of ${name}; ${known.length ? `it has ${known.join(', ')}` : 'it takes none'}`;
    }
    if (v === undefined) continue;
    const why = fails(rule, v);
    if (why) return `--options ${key}: ${JSON.stringify(v)} is not valid for ${name}; ${why}`;
  }
  return null;
}
