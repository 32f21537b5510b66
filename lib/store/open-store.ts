import type { StoreConfig } from '../config.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { JobStore } from './store.ts';

/**
 * Opens the store `DLI_WATCH_STORE` names. A DynamoDB store takes its region, endpoint and credentials from
 * the standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, the credential chain). Throws a
 * `StoreError` when it is unusable.
 */
export async function openStore(config: StoreConfig): Promise<JobStore> {
  if (config.kind === 'dynamodb') {
    // Loaded only when used: the AWS SDK would otherwise add to every SQLite command's start-up time.
    const { DynamoDbStore } = await import('./dynamodb-store.ts');
    return DynamoDbStore.open({ table: config.table });
  }
  return SqliteStore.open(config.path);
}
