import { randomBytes } from 'node:crypto';

export const BENCH_SECRETS = Object.freeze({
  BUY_WEBHOOK_SECRET: 'bench-buy-secret-0123456789abcdef0123',
  SELL_WEBHOOK_SECRET: 'bench-sell-secret-0123456789abcdef0123',
  TRADE_WEBHOOK_SECRET: 'bench-trade-secret-0123456789abcdef012',
  RELWORX_WEBHOOK_SECRET: 'bench-relworx-secret-0123456789abcdef0',
});

export function benchName(prefix: string): string {
  return `bench_${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function integerEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

export const BENCH_PARTS = ['receiver', 'processor', 'e2e'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

/** BENCH_ONLY: a comma list of the parts to run; unset or empty, all of them. */
export function benchParts(value: string | undefined): ReadonlySet<BenchPart> {
  const named = (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const unknown = named.filter((part) => !(BENCH_PARTS as readonly string[]).includes(part));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names ${unknown.join(', ')}: it must list some of ${BENCH_PARTS.join(', ')}`);
  return new Set(named.length === 0 ? BENCH_PARTS : (named as BenchPart[]));
}
