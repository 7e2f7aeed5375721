import { MEMBER_STATUSES } from '../domain/campaign-status.js';
import { looksLikeSalesforceId } from '../domain/salesforce-id.js';
import type { CampaignRef, CampaignWriter } from '../ports/campaign-writer.js';

/** Settings campaigns.programs names a Campaign Salesforce does not hold. */
export class CampaignMappingError extends Error {
  override readonly name = 'CampaignMappingError';
  constructor(missing: readonly { program: string; target: string }[], options?: { cause?: unknown }) {
    super(
      `Settings campaigns.programs maps ${missing.length} program(s) to a Campaign Salesforce does not have: ${missing
        .map((m) => `"${m.program}" → "${m.target}"`)
        .join(
          ', ',
        )}. Correct the Campaign Id or name (Salesforce: Campaigns tab, the record's Id in its URL), or remove the entry to let the sync create a Campaign named after the program.`,
      options,
    );
  }
}

export interface ResolvedCampaigns {
  /** Program → its Campaign (programs with none, when not creating, are absent). */
  campaigns: Map<string, CampaignRef>;
  created: number;
  memberStatusesAdded: number;
}

/**
 * Program → Salesforce Campaign: the explicit mapping in settings first (a Campaign Id or name;
 * one that does not exist is a CampaignMappingError naming it), then the Campaign named after the
 * program, created when missing (`create`). Every Campaign used gets the member statuses the sync
 * writes (Salesforce refuses a member status its Campaign does not define).
 */
export async function resolveCampaigns(
  writer: Pick<CampaignWriter, 'campaignsByName' | 'campaignsByIds' | 'createCampaign' | 'addMemberStatuses'>,
  programs: readonly string[],
  mapping: Readonly<Record<string, string>>,
  options: { create: boolean },
): Promise<ResolvedCampaigns> {
  const out: ResolvedCampaigns = { campaigns: new Map(), created: 0, memberStatusesAdded: 0 };
  const mapped = programs.filter((p) => mapping[p] !== undefined);
  const byId = mapped.filter((p) => looksLikeSalesforceId(mapping[p] ?? ''));
  const byName = mapped.filter((p) => !byId.includes(p));
  const ids = await (byId.length > 0 ? writer.campaignsByIds(byId.map((p) => mapping[p] ?? '')) : new Map());
  const named = await writer.campaignsByName([
    ...byName.map((p) => mapping[p] ?? ''),
    ...programs.filter((p) => mapping[p] === undefined),
  ]);
  const missing: { program: string; target: string }[] = [];
  for (const p of programs) {
    const target = mapping[p];
    const found =
      target === undefined ? named.get(p) : byId.includes(p) ? ids.get(target) : named.get(target);
    if (found) out.campaigns.set(p, found);
    else if (target !== undefined) missing.push({ program: p, target });
  }
  if (missing.length > 0) throw new CampaignMappingError(missing);
  if (!options.create) return out;
  for (const p of programs) {
    const found = out.campaigns.get(p);
    if (!found) {
      out.campaigns.set(p, await writer.createCampaign(p, MEMBER_STATUSES));
      out.created += 1;
      continue;
    }
    const lacking = MEMBER_STATUSES.filter((s) => !found.memberStatuses.includes(s));
    if (lacking.length > 0) {
      await writer.addMemberStatuses(found.id, lacking);
      out.memberStatusesAdded += lacking.length;
    }
  }
  return out;
}
