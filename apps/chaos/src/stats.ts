import * as hdr from 'hdr-histogram-js';

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50 / p99 / max in milliseconds (HdrHistogram at microsecond resolution, 3 significant digits). */
export function summarize(valuesMs: readonly number[]): Summary {
  if (valuesMs.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const value of valuesMs) histogram.recordValue(Math.max(1, Math.round(value * 1000)));
  const summary = {
    count: valuesMs.length,
    p50: round(histogram.getValueAtPercentile(50) / 1000),
    p99: round(histogram.getValueAtPercentile(99) / 1000),
    max: round(Math.max(...valuesMs)),
  };
  histogram.destroy();
  return summary;
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
