import type { RecordError, SaveResult, SfRecord } from './sandbox-records.js';

/**
 * Campaign, CampaignMember and CampaignMemberStatus rules of the sandbox org.
 *
 * Documented (Salesforce Object Reference, "CampaignMember" — developer.salesforce.com
 * …/object_reference/sforce_api_objects_campaignmember.htm, fields and Usage):
 * - `CampaignId` is required; `LeadId` / `ContactId` name the person; `CampaignId`, `LeadId` and
 *   `ContactId` are Create-only (no Update property), so an update that sets one is refused
 *   (`INVALID_FIELD_FOR_INSERT_UPDATE`, the StatusCode for a field that cannot be written).
 * - "must contain either a ContactId or a LeadId, but can't contain both. Any attempt to create a
 *   single record with both results in a successful insert but only the ContactId is inserted."
 * - "If the record does not exist for the given ContactId or LeadId, then a new record is created.
 *   If the record exists, an error is returned and no update is made. To update an existing record,
 *   specify the ID of the CampaignMember record."
 * - `Status` is Nillable; Marketing Users define the valid values per campaign and choose one as
 *   the default (so a member created without a Status gets the campaign's default status).
 * CampaignMemberStatus (Object Reference, "CampaignMemberStatus"): `CampaignId`, `Label` ("Limited
 * to 765 characters"), `HasResponded`, `IsDefault`, `SortOrder`; from API 39.0 every campaign has
 * a default status and one with HasResponded = true. Salesforce Help (Campaign Member Statuses):
 * a new campaign starts with "Sent" (default) and "Responded".
 *
 * Not documented per object, so chosen from the API's StatusCode enum (SOAP API Developer Guide,
 * "Core Data Types Used in API Calls": the full list is in the org's WSDL): a Status the campaign
 * does not define → `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST` ("bad value for restricted picklist
 * field"; the object reference does not mark Status a restricted picklist, the per-campaign values
 * make it behave as one); an existing member created again → `DUPLICATE_VALUE` with the message
 * "Already a campaign member." (as the service answers); a second status label on one campaign →
 * `DUPLICATE_VALUE`. Callers must treat any failure as a failure, not match these codes.
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
  if (existing && sobject === 'CampaignMember') {
    const locked = ['CampaignId', 'LeadId', 'ContactId'].filter(
      (f) => record[f] !== undefined && record[f] !== existing[f],
    );
    if (locked.length > 0)
      return fail(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${locked.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        locked,
      );
  }
  const merged = {
    ...existing,
    ...record,
    ...(existing ? {} : campaignMemberInsert(tables, sobject, record)),
  };
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

/**
 * What an insert of a CampaignMember stores beyond the given fields (Object Reference, see above):
 * with both a ContactId and a LeadId only the ContactId is inserted; without a Status, the
 * campaign's default status.
 */
export function campaignMemberInsert(
  tables: CampaignTables,
  sobject: string,
  record: Record<string, unknown>,
): Record<string, unknown> {
  if (sobject !== 'CampaignMember') return {};
  const out: Record<string, unknown> = {};
  if (record.LeadId && record.ContactId) out.LeadId = null;
  if (record.Status === undefined || record.Status === null) {
    const fallback = [...tables.CampaignMemberStatus.values()].find(
      (s) => s.CampaignId === record.CampaignId && s.IsDefault === true,
    );
    if (fallback) out.Status = fallback.Label;
  }
  return out;
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
