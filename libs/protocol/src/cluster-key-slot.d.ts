// The package ships no types; the tests use its one function.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot of a key (CRC16 of its hash tag, or of the whole key). */
  export default function calculateSlot(key: string): number;
}
