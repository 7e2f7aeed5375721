import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  TABLES,
  type TableDefinition,
  type TableKey,
} from '../../shared/adapters/dynamodb/table-definitions.js';
import { createDocumentClient } from '../../shared/runtime/aws-clients.js';

const require = createRequire(import.meta.url);

interface DynaliteServer {
  listen(port: number, host: string, cb: (err?: Error) => void): void;
  close(cb: () => void): void;
  address(): AddressInfo;
}

export interface DynamoTestServer {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tables: Record<TableKey, string>;
  stop(): Promise<void>;
}

/** A real DynamoDB-API server (dynalite) on loopback; `path` persists it to disk. */
export async function startDynalite(
  options: { path?: string } = {},
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dynalite = require('dynalite') as (o: {
    createTableMs: number;
    deleteTableMs: number;
    updateTableMs: number;
    path?: string;
  }) => DynaliteServer;
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) =>
    server.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

/** Creates every table in TABLES (idempotent: existing tables are kept). */
export async function createTables(client: DynamoDBClient, prefix = ''): Promise<Record<TableKey, string>> {
  const names = {} as Record<TableKey, string>;
  for (const [key, def] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
    const TableName = `${prefix}${def.localName}`;
    names[key] = TableName;
    try {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: def.partitionKey, AttributeType: 'S' },
            ...(def.sortKey ? [{ AttributeName: def.sortKey, AttributeType: 'S' as const }] : []),
          ],
          KeySchema: [
            { AttributeName: def.partitionKey, KeyType: 'HASH' },
            ...(def.sortKey ? [{ AttributeName: def.sortKey, KeyType: 'RANGE' as const }] : []),
          ],
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
  }
  return names;
}

/** dynalite + every table (tests and the embedded default). */
export async function startDynamoTestServer(): Promise<DynamoTestServer> {
  const server = await startDynalite();
  const client = dynamoClient(server.endpoint);
  const tables = await createTables(client);
  return {
    endpoint: server.endpoint,
    client,
    doc: createDocumentClient(client),
    tables,
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
