/** The part of a logger that the realtime classes report through (the runtime Logger fits). */
export interface RealtimeLogger {
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}
