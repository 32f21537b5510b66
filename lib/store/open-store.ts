import type { StoreConfig } from '../config.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { JobStore } from './store.ts';

/** Opens the store `DLI_WATCH_STORE` names. Throws a `StoreError` when it is unusable. */
export async function openStore(config: StoreConfig): Promise<JobStore> {
  return SqliteStore.open(config.path);
}
