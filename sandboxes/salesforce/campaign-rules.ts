import type { RecordError, SaveResult, SfRecord } from './sandbox-records.js';

/**
 * Campaign, CampaignMember and CampaignMemberStatus rules of the sandbox org. Sources (Salesforce
 * Object Reference): CampaignMember links a Campaign (`CampaignId`, required) and a Lead
 * (`LeadId`) or Contact (`ContactId`), its `Status` a label of the Campaign's member statuses;
 * CampaignMemberStatus has `CampaignId`, `Label` (≤ 765 characters), `HasResponded`, `IsDefault`,
 * `SortOrder`, and every campaign has a default status and one with HasResponded = true
 * (API ≥ 39.0). Salesforce Help (Campaign Member Statuses): a new campaign starts with the
 * statuses "Sent" (default) and "Responded".
 * Not documented, so chosen here: the status code for a Status the campaign does not define
 * (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`) and for a second member for the same person
 * (`DUPLICATE_VALUE`); callers must treat any failure as a failure, not match these codes.
 */

export type CampaignObject = 'Campaign' | 'CampaignMember' | 'CampaignMemberStatus';
export const CAMPAIGN_OBJECTS: readonly CampaignObject[] = [
  'Campaign',
  'CampaignMember',
  'CampaignMemberStatus',
];

export interface CampaignTables {
  Campaign: Map<string, SfRecord>;
  CampaignMember: Map<string, SfRecord>;
  CampaignMemberStatus: Map<string, SfRecord>;
}

const fail = (statusCode: string, message: string, fields: string[] = []): SaveResult => ({
  success: false,
  errors: [{ statusCode, message, fields } satisfies RecordError],
});

export function isCampaignObject(sobject: string): sobject is CampaignObject {
  return (CAMPAIGN_OBJECTS as readonly string[]).includes(sobject);
}

/** Refuses a write the org would refuse; `existing` is the record being updated. */
export function checkCampaignWrite(
  tables: CampaignTables,
  sobject: string,
  record: Record<string, unknown>,
  existing: SfRecord | undefined,
): SaveResult | undefined {
  if (!isCampaignObject(sobject) || sobject === 'Campaign') {
    if (sobject === 'Campaign' && !existing && !record.Name)
      return fail('REQUIRED_FIELD_MISSING', 'Required fields are missing: [Name]', ['Name']);
    return undefined;
  }
  const merged = { ...existing, ...record };
  const campaignId = String(merged.CampaignId ?? '');
  if (!tables.Campaign.has(campaignId))
    return fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['CampaignId']);
  const statuses = [...tables.CampaignMemberStatus.values()].filter((s) => s.CampaignId === campaignId);
  if (sobject === 'CampaignMemberStatus') {
    const label = String(merged.Label ?? '');
    if (!label) return fail('REQUIRED_FIELD_MISSING', 'Required fields are missing: [Label]', ['Label']);
    if (label.length > 765) return fail('STRING_TOO_LONG', 'Label: data value too large', ['Label']);
    if (statuses.some((s) => s.Label === label && s.Id !== existing?.Id))
      return fail('DUPLICATE_VALUE', `duplicate value found: Label ${label}`, ['Label']);
    return undefined;
  }
  const lead = merged.LeadId ? String(merged.LeadId) : '';
  const contact = merged.ContactId ? String(merged.ContactId) : '';
  if (!lead && !contact)
    return fail('REQUIRED_FIELD_MISSING', 'Required fields are missing: [LeadId or ContactId]', ['LeadId']);
  const status = merged.Status === undefined ? undefined : String(merged.Status);
  if (status !== undefined && !statuses.some((s) => s.Label === status))
    return fail(
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      `Status: bad value for restricted picklist field: ${status}`,
      ['Status'],
    );
  const person = lead || contact;
  const clash = [...tables.CampaignMember.values()].some(
    (m) =>
      m.Id !== existing?.Id && m.CampaignId === campaignId && (m.LeadId === person || m.ContactId === person),
  );
  if (clash) return fail('DUPLICATE_VALUE', 'Already a campaign member.', ['LeadId']);
  return undefined;
}

/** The member statuses a new campaign starts with (Salesforce Help: "Sent" default, "Responded"). */
export function defaultMemberStatuses(campaignId: string, stamp: string): Omit<SfRecord, 'Id'>[] {
  const base = {
    CampaignId: campaignId,
    CreatedDate: stamp,
    LastModifiedDate: stamp,
    SystemModstamp: stamp,
    IsDeleted: false,
  };
  return [
    { ...base, Label: 'Sent', IsDefault: true, HasResponded: false, SortOrder: 1 },
    { ...base, Label: 'Responded', IsDefault: false, HasResponded: true, SortOrder: 2 },
  ];
}
