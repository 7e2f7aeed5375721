import { LEAD_FIELD_IDS, ACTIVITY_TYPE_IDS as T } from './activity-types.js';
import { EMAILS, FORMS, LISTS, PAGES, SALES_SUBJECTS, USER_AGENTS, WEBINARS } from './sample-data.js';
import type { WorldActivity, WorldAttribute, WorldLead } from './types.js';

/**
 * The world's activity generators as a table: activity type id → a function that fills in the
 * type's primary attribute and attributes (names as in the catalogue, activity-types.ts). Every
 * random draw goes through `g`, in a fixed order, so the same seed yields the same world.
 */

/** The seeded draws a generator may use. */
export interface GeneratorContext {
  rand(): number;
  pick<T>(items: readonly T[]): T;
  /** A documentation-range IPv4 address. */
  ip(): string;
}

/** Completes `base` (ids, lead, date, type already set) into an activity of `typeId`. */
export type ActivityGenerator = (base: WorldActivity, typeId: number, g: GeneratorContext) => WorldActivity;

const MINUTE = 60_000;

const visitWebpage: ActivityGenerator = (base, _typeId, g) => {
  const page = g.pick(PAGES);
  return {
    ...base,
    primaryAttributeValueId: page.id,
    primaryAttributeValue: page.url,
    attributes: [
      { name: 'Client IP Address', value: g.ip() },
      {
        name: 'Query Parameters',
        value: g.rand() < 0.3 ? 'utm_source=linkedin&utm_medium=paid' : '',
      },
      { name: 'Referrer URL', value: 'https://www.google.com/' },
      { name: 'User Agent', value: g.pick(USER_AGENTS) },
      { name: 'Webpage URL', value: `/${page.url.split('/').slice(1).join('/')}` },
    ].filter((a) => a.value !== ''),
  };
};

const fillOutForm: ActivityGenerator = (base, _typeId, g) => {
  const form = g.pick(FORMS);
  return {
    ...base,
    primaryAttributeValueId: form.id,
    primaryAttributeValue: form.name,
    attributes: [
      { name: 'Client IP Address', value: g.ip() },
      { name: 'Form Fields', value: '{"Company":"(redacted)","Country":"United States"}' },
      { name: 'Query Parameters', value: 'utm_campaign=q4-launch&utm_source=newsletter' },
      { name: 'Referrer URL', value: 'https://www.example.com/product/security' },
      { name: 'User Agent', value: g.pick(USER_AGENTS) },
      { name: 'Webpage ID', value: g.pick(PAGES).id },
    ],
  };
};

/** Send Email, Email Delivered, Open Email, Click Email. */
const marketoEmail: ActivityGenerator = (base, typeId, g) => {
  const email = g.pick(EMAILS);
  const attributes: WorldAttribute[] = [
    { name: 'Campaign Run ID', value: 10_000 + Math.floor(g.rand() * 500) },
    { name: 'Step ID', value: 1 + Math.floor(g.rand() * 12) },
    { name: 'Choice Number', value: Math.floor(g.rand() * 3) },
  ];
  if (typeId === T.openEmail || typeId === T.clickEmail) {
    const mobile = g.rand() < 0.4;
    attributes.push(
      { name: 'Device', value: mobile ? 'iPhone' : 'Desktop' },
      { name: 'Is Mobile Device', value: mobile },
      { name: 'Platform', value: mobile ? 'iOS' : 'Windows' },
    );
  }
  if (typeId === T.clickEmail) {
    attributes.push(
      { name: 'Link', value: 'https://www.example.com/webinar/zero-trust?mkt_tok=redacted' },
      { name: 'Link ID', value: 900 + Math.floor(g.rand() * 50) },
    );
  }
  // ~5% of Send Email are committed 5–40 minutes after their activityDate (API-NOTES: late commits).
  let visibleAtMs = base.dateMs;
  if (typeId === T.sendEmail && g.rand() < 0.05) visibleAtMs = base.dateMs + (5 + g.rand() * 35) * MINUTE;
  return {
    ...base,
    visibleAtMs: Math.floor(visibleAtMs),
    campaignId: 2000 + (email.id % 100),
    primaryAttributeValueId: email.id,
    primaryAttributeValue: email.name,
    attributes,
  };
};

/** Add To List, Remove from List. */
const listMembership: ActivityGenerator = (base, _typeId, g) => {
  const list = g.pick(LISTS);
  return {
    ...base,
    campaignId: g.rand() < 0.7 ? 3000 + list.id : null,
    primaryAttributeValueId: list.id,
    primaryAttributeValue: list.name,
    ...(g.rand() < 0.5 ? { attributes: [{ name: 'Source', value: 'Smart Campaign' }] } : {}),
  };
};

const changeScore: ActivityGenerator = (base, _typeId, g) => {
  const change = g.pick([5, 10, 15, -5, 25]);
  const old = Math.floor(g.rand() * 100);
  return {
    ...base,
    campaignId: 4001,
    primaryAttributeValueId: 1,
    primaryAttributeValue: 'Behavior Score',
    attributes: [
      { name: 'Change Value', value: change > 0 ? `+${change}` : String(change) },
      { name: 'Old Value', value: old },
      { name: 'New Value', value: old + change },
      { name: 'Reason', value: 'Web page visit' },
    ],
  };
};

/** Send, Open, Click and Receive Sales Email. */
const salesEmail: ActivityGenerator = (base, typeId, g) => {
  const subject = g.pick(SALES_SUBJECTS);
  const attributes: WorldAttribute[] = [
    { name: 'Source', value: 'Sales Insight' },
    { name: 'Subject', value: subject },
  ];
  if (typeId === T.sendSalesEmail) attributes.push({ name: 'Template', value: 'Follow-up v2' });
  if (typeId === T.clickSalesEmail)
    attributes.push({ name: 'Link', value: 'https://www.example.com/pricing' });
  if (typeId === T.receiveSalesEmail) attributes.push({ name: 'From', value: 'prospect (redacted)' });
  return {
    ...base,
    primaryAttributeValueId: 80_000 + Math.floor(g.rand() * 5_000),
    primaryAttributeValue: subject,
    attributes,
  };
};

const attendedWebinar: ActivityGenerator = (base, _typeId, g) => ({
  ...base,
  primaryAttributeValue: g.pick(WEBINARS),
  attributes: [
    { name: 'Duration Minutes', value: 10 + Math.floor(g.rand() * 50) },
    { name: 'Registration Source', value: g.pick(['Email', 'Website', 'Partner']) },
  ],
});

/** Type id → generator. A type without an entry gets a bare record (no primary attribute value). */
export const ACTIVITY_GENERATORS: Readonly<Record<number, ActivityGenerator>> = {
  [T.visitWebpage]: visitWebpage,
  [T.fillOutForm]: fillOutForm,
  [T.sendEmail]: marketoEmail,
  [T.emailDelivered]: marketoEmail,
  [T.openEmail]: marketoEmail,
  [T.clickEmail]: marketoEmail,
  [T.addToList]: listMembership,
  [T.removeFromList]: listMembership,
  [T.changeScore]: changeScore,
  [T.sendSalesEmail]: salesEmail,
  [T.openSalesEmail]: salesEmail,
  [T.clickSalesEmail]: salesEmail,
  [T.receiveSalesEmail]: salesEmail,
  [T.attendedWebinar]: attendedWebinar,
};

export function generateActivity(base: WorldActivity, typeId: number, g: GeneratorContext): WorldActivity {
  const generate = ACTIVITY_GENERATORS[typeId];
  return generate ? generate(base, typeId, g) : { ...base, primaryAttributeValue: null };
}

type ChangeRecord = Pick<
  WorldActivity,
  'activityTypeId' | 'primaryAttributeValueId' | 'primaryAttributeValue' | 'attributes' | 'fields'
>;

/** The Data Value Change (13) of a lead seeded as unsubscribed inside the window. */
export function seededUnsubscribe(lead: WorldLead): ChangeRecord {
  return {
    activityTypeId: T.changeDataValue,
    primaryAttributeValueId: LEAD_FIELD_IDS.unsubscribed ?? null,
    primaryAttributeValue: 'Unsubscribed',
    attributes: [
      { name: 'Reason', value: lead.unsubscribedReason ?? 'Unsubscribed' },
      { name: 'Source', value: 'Email unsubscribe link' },
    ],
    fields: [
      {
        id: LEAD_FIELD_IDS.unsubscribed ?? 47,
        name: 'unsubscribed',
        newValue: 'true',
        oldValue: 'false',
      },
    ],
  };
}

/** The Data Value Change (13) of one lead field written through the API (or another source). */
export function dataValueChange(
  field: string,
  newValue: string | null,
  oldValue: string | null,
  source: string,
): ChangeRecord {
  return {
    activityTypeId: T.changeDataValue,
    primaryAttributeValueId: LEAD_FIELD_IDS[field] ?? null,
    primaryAttributeValue: field,
    attributes: [
      { name: 'Reason', value: source === 'Web service API' ? 'Changed by API' : 'Changed' },
      { name: 'Source', value: source },
    ],
    fields: [{ id: LEAD_FIELD_IDS[field] ?? 0, name: field, newValue, oldValue }],
  };
}
