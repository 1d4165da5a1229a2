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
