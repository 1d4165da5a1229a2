/**
 * pending → processing → completed | failed | cancelled. Terminal states never change again;
 * an update that would move a trade backwards, or touch a finished one, is stale: recorded,
 * not applied, and not an error (webhooks arrive late and out of order).
 */
export type TradeStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';

const RANK: Record<TradeStatus, number> = { pending: 0, processing: 1, completed: 2, failed: 2, cancelled: 2 };

export function isTerminal(status: TradeStatus): boolean {
  return RANK[status] === 2;
}

/** Whether moving from `current` to `next` applies. A non-terminal status may repeat (progress updates). */
export function canTransition(current: TradeStatus, next: TradeStatus): boolean {
  if (isTerminal(current)) return false;
  return RANK[next] >= RANK[current];
}
