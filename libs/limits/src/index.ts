export * from './quota-periods.ts';
export * from './rate-limit.ts';
export * from './token-quotas.ts';
