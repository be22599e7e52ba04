/** Milliseconds with two decimals below 10, one below 1000, none above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) < 10) return value.toFixed(2);
  if (Math.abs(value) < 1000) return value.toFixed(1);
  return value.toFixed(0);
}
