import type { PrunableJobStore } from './job-store.ts';

/**
 * Where dli-watch keeps its state (`DLI_WATCH_STORE`): a SQLite file, whose `path` is absolute (resolved
 * against the working directory), or a DynamoDB table in the account and region of the AWS environment.
 */
export type StoreConfig = { kind: 'sqlite'; path: string } | { kind: 'dynamodb'; table: string };

export interface OpenStoreOptions {
  /**
   * Refuse a store that does not exist yet, creating nothing (a `MissingStoreError`). Only a SQLite file can be
   * checked up front; a DynamoDB table that does not exist fails its first operation, as ever.
   */
  mustExist?: boolean;
}

/**
 * Opens the store `DLI_WATCH_STORE` names. A DynamoDB store takes its region, endpoint and credentials from
 * the standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, the credential chain). Throws a
 * `StoreError` when it is unusable.
 */
export async function openStore(
  config: StoreConfig,
  options: OpenStoreOptions = {},
): Promise<PrunableJobStore> {
  // Each backend is loaded only when used: the AWS SDK would add to every SQLite command's start-up time, and
  // `node:sqlite` to the Lambda's cold start.
  if (config.kind === 'dynamodb') {
    const { DynamoDbStore } = await import('./dynamodb-store.ts');
    return DynamoDbStore.open({ table: config.table });
  }
  const { SqliteStore } = await import('./sqlite-store.ts');
  return SqliteStore.open(config.path, options);
}
