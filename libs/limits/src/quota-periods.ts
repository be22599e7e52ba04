/** Token quotas count per UTC calendar day and month. */
export type QuotaPeriod = 'day' | 'month';
export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['day', 'month'];

export interface PeriodWindow {
  /** Names the period in keys and reports: `2025-06-01` (day) or `2025-06` (month). */
  start: string;
  /** When the period ends and its counts start again from 0. */
  resetAt: Date;
}

/** The period `now` falls in, in UTC. */
export function periodWindow(period: QuotaPeriod, now: Date): PeriodWindow {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const yyyyMm = `${year}-${String(month + 1).padStart(2, '0')}`;
  if (period === 'month') return { start: yyyyMm, resetAt: new Date(Date.UTC(year, month + 1, 1)) };
  const day = now.getUTCDate();
  return { start: `${yyyyMm}-${String(day).padStart(2, '0')}`, resetAt: new Date(Date.UTC(year, month, day + 1)) };
}
