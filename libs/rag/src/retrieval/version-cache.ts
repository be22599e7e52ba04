/**
 * The loaded version of each organisation's index in this process, and the loads
 * in flight: concurrent queries that need the same version share one load.
 */
export class VersionCache<T extends { version: number }> {
  readonly loaded = new Map<string, T>();
  private readonly loading = new Map<string, { version: number; promise: Promise<T> }>();

  /** The state of `version`: the loaded one, a load in flight, or a new `load()`. */
  get(organisationId: string, version: number, load: () => Promise<T>): Promise<T> {
    const state = this.loaded.get(organisationId);
    if (state && state.version === version) return Promise.resolve(state);
    const pending = this.loading.get(organisationId);
    if (pending && pending.version === version) return pending.promise;
    const promise = load().finally(() => {
      if (this.loading.get(organisationId)?.promise === promise) this.loading.delete(organisationId);
    });
    this.loading.set(organisationId, { version, promise });
    return promise;
  }
}
