import type { WorldLead } from '../../world.js';
import { EnvelopeError } from '../envelope.js';
import { parseBatchSize, readToken, requireInput, tokenFor } from '../request-params.js';
import type { Router } from '../router.js';
import type { MarketoState } from '../sandbox-state.js';

/**
 * Leads: Get Leads by Filter Type and Sync Leads (AdobeDocs/marketo-developer.en
 * help/rest-api/leads.md; shared/API-NOTES.md "Leads"): ≤ 300 filter values or input records,
 * per-record `status: created|updated|skipped` with `reasons` (1004 lead not found, 1005 lead
 * already exists, 1006 field not found: help/rest-api/error-codes.md).
 */

const LEAD_FIELDS: readonly (keyof WorldLead)[] = [
  'id',
  'email',
  'firstName',
  'lastName',
  'company',
  'createdAt',
  'updatedAt',
  'unsubscribed',
  'unsubscribedReason',
  'emailInvalid',
  'sfdcType',
  'sfdcLeadId',
  'sfdcContactId',
  'sfdcAccountId',
];
const DEFAULT_LEAD_FIELDS = ['id', 'email', 'updatedAt', 'createdAt', 'firstName', 'lastName'];
const WRITABLE_LEAD_FIELDS = new Set([
  'email',
  'firstName',
  'lastName',
  'company',
  'unsubscribed',
  'unsubscribedReason',
]);

function leadView(lead: WorldLead, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: lead.id };
  for (const f of fields) out[f] = (lead as unknown as Record<string, unknown>)[f] ?? null;
  return out;
}

export function leadRoutes(router: Router, state: MarketoState): void {
  const { world } = state;

  router.route('GET', '/rest/v1/leads.json', (ctx) => {
    const filterType = ctx.params.filterType;
    if (!filterType) throw new EnvelopeError('701', 'filterType cannot be blank');
    if (!['id', 'email', 'sfdcLeadId', 'sfdcContactId', 'sfdcAccountId'].includes(filterType))
      throw new EnvelopeError('1003', `Invalid filterType '${filterType}'`);
    const rawValues = ctx.params.filterValues;
    if (!rawValues) throw new EnvelopeError('701', 'filterValues cannot be blank');
    const values = rawValues.split(',');
    if (values.length > 300)
      throw new EnvelopeError('1003', `Too many filterValues: ${values.length} (max 300)`);
    const fields = ctx.params.fields
      ? ctx.params.fields.split(',').map((f) => f.trim())
      : DEFAULT_LEAD_FIELDS;
    const unknown = fields.find((f) => !(LEAD_FIELDS as readonly string[]).includes(f));
    if (unknown) throw new EnvelopeError('1006', `Field '${unknown}' not found`);
    const batchSize = parseBatchSize(ctx.params.batchSize);
    const matches: WorldLead[] = [];
    const seen = new Set<number>();
    for (const v of values) {
      for (const l of world.findLeads(filterType, v)) {
        if (!seen.has(l.id)) {
          seen.add(l.id);
          matches.push(l);
        }
      }
    }
    const fingerprint = `${filterType}:${rawValues.length}:${rawValues.slice(0, 32)}`;
    let offset = 0;
    if (ctx.params.nextPageToken) {
      const pos = readToken(state, ctx.params.nextPageToken, ctx.now);
      if (pos.kind !== 'o' || pos.q !== fingerprint) throw new EnvelopeError('1003', 'Invalid token value');
      offset = pos.n;
    }
    const page = matches.slice(offset, offset + batchSize);
    const more = offset + batchSize < matches.length;
    return {
      result: page.map((l) => leadView(l, fields)),
      ...(more
        ? {
            moreResult: true,
            nextPageToken: tokenFor({ kind: 'o', n: offset + batchSize, q: fingerprint }, ctx.now),
          }
        : {}),
    };
  });

  router.route('POST', '/rest/v1/leads.json', (ctx) => {
    const input = requireInput(ctx.body);
    const body = ctx.body as { action?: string; lookupField?: string };
    const action = body.action ?? 'createOrUpdate';
    if (!['createOnly', 'updateOnly', 'createOrUpdate', 'createDuplicate'].includes(action))
      throw new EnvelopeError('1003', `Invalid action '${action}'`);
    const lookupField = body.lookupField ?? 'email';
    const result = input.map((rec) => {
      const key = rec[lookupField];
      if (key === undefined || key === null || key === '')
        return {
          status: 'skipped',
          reasons: [{ code: '1003', message: `Value for lookup field '${lookupField}' missing` }],
        };
      const found = action === 'createDuplicate' ? [] : world.findLeads(lookupField, String(key));
      const existing = found[found.length - 1];
      if (existing && action === 'createOnly')
        return {
          id: existing.id,
          status: 'skipped',
          reasons: [{ code: '1005', message: 'Lead already exists' }],
        };
      if (!existing && action === 'updateOnly')
        return { status: 'skipped', reasons: [{ code: '1004', message: 'Lead not found' }] };
      const bad = Object.keys(rec).find(
        (k) => k !== lookupField && k !== 'id' && !WRITABLE_LEAD_FIELDS.has(k),
      );
      if (bad) return { status: 'skipped', reasons: [{ code: '1006', message: `Field '${bad}' not found` }] };
      if (!existing) {
        const email = typeof rec.email === 'string' ? rec.email : '';
        const lead = world.createLead(
          {
            email,
            firstName: typeof rec.firstName === 'string' ? rec.firstName : '',
            lastName: typeof rec.lastName === 'string' ? rec.lastName : '',
          },
          ctx.now,
        );
        return { id: lead.id, status: 'created' };
      }
      if (typeof rec.unsubscribed === 'boolean' || typeof rec.unsubscribedReason === 'string') {
        world.recordLeadChange(existing.id, {
          unsubscribed: typeof rec.unsubscribed === 'boolean' ? rec.unsubscribed : existing.unsubscribed,
          ...(typeof rec.unsubscribedReason === 'string' ? { reason: rec.unsubscribedReason } : {}),
          at: ctx.now,
          source: 'Web service API',
        });
      }
      for (const f of ['email', 'firstName', 'lastName', 'company'] as const) {
        if (typeof rec[f] === 'string' && f !== lookupField)
          world.recordFieldChange(existing.id, f, rec[f], ctx.now);
      }
      return { id: existing.id, status: 'updated' };
    });
    return { result };
  });
}
