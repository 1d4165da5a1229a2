import { canTransition, isTerminal, type TradeStatus } from '../../processor/trade-status';

const STATUSES: TradeStatus[] = ['pending', 'processing', 'completed', 'failed', 'cancelled'];

/** Rows: the trade's status; columns: the status a webhook asks for, in STATUSES order. */
const TABLE: Record<TradeStatus, boolean[]> = {
  //           pending processing completed failed cancelled
  pending: [true, true, true, true, true],
  processing: [false, true, true, true, true],
  completed: [false, false, false, false, false],
  failed: [false, false, false, false, false],
  cancelled: [false, false, false, false, false],
};

describe('trade status transitions', () => {
  it.each(STATUSES.flatMap((from) => STATUSES.map((to, column) => [from, to, TABLE[from][column]!] as const)))(
    '%s → %s applies: %s',
    (from, to, applies) => {
      expect(canTransition(from, to)).toBe(applies);
    },
  );

  it('knows completed, failed and cancelled as the terminal states', () => {
    expect(STATUSES.filter(isTerminal)).toEqual(['completed', 'failed', 'cancelled']);
  });
});
