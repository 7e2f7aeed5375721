import type { IncomingMessage, ServerResponse } from 'node:http';
import { SOBJECTS, type SObjectName } from './sandbox-store.js';

/**
 * HTTP plumbing of the Salesforce sandbox and its error shape: a JSON array of
 * `{ message, errorCode, fields? }` with the HTTP status (Salesforce REST API Developer Guide,
 * "Status Codes and Error Responses"; shared/API-NOTES.md "Salesforce REST").
 */

/** An error answered as `[{ message, errorCode, fields? }]` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
  }
}

export const notFound = (message = 'The requested resource does not exist'): HttpError =>
  new HttpError(404, 'NOT_FOUND', message);

/** `/services/data/vXX.X/…` → version and the rest of the path. */
export const DATA_PATH = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'Content-Type': 'application/json;charset=UTF-8' }),
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'JSON_PARSER_ERROR',
      `Unexpected character in the request body: ${(error as Error).message}`,
    );
  }
}

export function isRecordObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `client=` of a `Sforce-Call-Options` header. */
export function callOptionsClient(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k?.toLowerCase() === 'client') return v;
  }
  return undefined;
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The served sObject named `name` (case-insensitive), or 404 NOT_FOUND. */
export function sobjectName(name: string | undefined): SObjectName {
  const found = SOBJECTS.find((s) => s.toLowerCase() === (name ?? '').toLowerCase());
  if (!found)
    throw new HttpError(
      404,
      'NOT_FOUND',
      `The requested resource does not exist: sObject type '${name}' is not supported.`,
    );
  return found;
}
