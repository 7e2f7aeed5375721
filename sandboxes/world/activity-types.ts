import type { WorldActivityType, WorldActivityTypeAttribute } from './types.js';

/**
 * The sandbox's activity-type catalogue (what `GET /rest/v1/activities/types.json` answers). It
 * follows the vendor's published documents, never our settings. Each entry names its sources:
 *
 * - [T] id and name: Adobe's published list of Marketo lead activity types, repository
 *   AdobeDocs/adobe-io-events, src/pages/guides/using/marketo/marketo-lead-activity-data-stream-setup.md
 *   ("Event List": 1 Visit Webpage … 24 Add To List … 45 Receive Sales Email … 48 Sales Email
 *   Bounced, "Custom 100000+"). Names are copied with their case ("Add To List"); clients match
 *   names case-insensitively (shared/API-NOTES.md, Activities).
 * - [D] the `types.json` definition published in AdobeDocs/marketo-developer.en,
 *   help/rest-api/activities.md ("Describe": Fill Out Form, its description, primary attribute and
 *   attributes with their data types).
 * - [Q] attribute names seen in a published activity record, help/rest-api/activities.md ("Query":
 *   Visit Webpage; "Lead changes": Change Data Value; "Deleted leads": Delete Lead). Data types
 *   are not published there; the sandbox says `string`.
 * - [B] the meaning of the primary attribute, help/rest-api/bulk-activity-extract.md
 *   ("primaryAttributeValueIds options": Change Data Value / Change Score = lead field id,
 *   Add To List / Remove from List = static list id, Fill Out Form = form id).
 * - [I] illustrative: Marketo publishes no definition for it; the sandbox's own plausible value.
 *
 * "Remove from Flow" (a flow step our default settings list) has no id in any published table
 * (shared/API-NOTES.md): the sandbox does not invent one, so it is absent from the catalogue as it
 * may be on a real instance; the default settings mark it optional and the run reports it missing.
 * A test that needs it adds an instance-specific type to `world.activityTypes` itself.
 */

/** Standard type ids used by the world's generators and routes. Source [T]. */
export const ACTIVITY_TYPE_IDS = {
  visitWebpage: 1,
  fillOutForm: 2,
  clickLink: 3,
  sendEmail: 6,
  emailDelivered: 7,
  emailBounced: 8,
  unsubscribeEmail: 9,
  openEmail: 10,
  clickEmail: 11,
  newLead: 12,
  changeDataValue: 13,
  changeScore: 22,
  addToList: 24,
  removeFromList: 25,
  deleteLead: 37,
  sendSalesEmail: 39,
  openSalesEmail: 40,
  clickSalesEmail: 41,
  receiveSalesEmail: 45,
  interestingMoment: 46,
  /** The world's own custom type; custom ids are ≥ 100000 [T]. */
  attendedWebinar: 100001,
} as const;

/**
 * Lead field ids used in Data Value Change (13) records. [I]: field ids are per instance (Describe
 * Lead); the published lead-changes example shows `{ id, name, newValue, oldValue }` [Q].
 */
export const LEAD_FIELD_IDS: Record<string, number> = {
  unsubscribed: 47,
  unsubscribedReason: 48,
  email: 51,
  firstName: 31,
  lastName: 32,
  emailInvalid: 49,
};

const str = (name: string): WorldActivityTypeAttribute => ({ name, dataType: 'string' });
const text = (name: string): WorldActivityTypeAttribute => ({ name, dataType: 'text' });
const int = (name: string): WorldActivityTypeAttribute => ({ name, dataType: 'integer' });
/** [I] */
const emailAttrs = [int('Campaign Run ID'), int('Step ID'), int('Choice Number')];

export const DEFAULT_ACTIVITY_TYPES: WorldActivityType[] = [
  {
    // id, name [T]; attribute names [Q]; description, primary attribute [I].
    id: 1,
    name: 'Visit Webpage',
    description: 'User visits a web page',
    primaryAttribute: int('Webpage ID'),
    attributes: [
      str('Client IP Address'),
      str('Query Parameters'),
      str('Referrer URL'),
      str('User Agent'),
      str('Webpage URL'),
    ],
  },
  {
    // id, name [T]; description, primary attribute, attributes and data types [D] (form id [B]).
    id: 2,
    name: 'Fill Out Form',
    description: 'User fills out and submits form on web page',
    primaryAttribute: int('Webform ID'),
    attributes: [
      str('Client IP Address'),
      text('Form Fields'),
      str('Query Parameters'),
      str('Referrer URL'),
      str('User Agent'),
      int('Webpage ID'),
    ],
  },
  {
    // id, name [T]; the rest [I].
    id: 3,
    name: 'Click Link',
    description: 'User clicks on a link in a web page',
    primaryAttribute: int('Link ID'),
    attributes: [str('Client IP Address'), str('Referrer URL')],
  },
  {
    // id, name [T]; the rest [I].
    id: 6,
    name: 'Send Email',
    description: 'Send Marketo Email to a person',
    primaryAttribute: int('Mailing ID'),
    attributes: emailAttrs,
  },
  {
    // id, name [T]; the rest [I].
    id: 7,
    name: 'Email Delivered',
    description: 'Marketo Email is delivered to a person',
    primaryAttribute: int('Mailing ID'),
    attributes: emailAttrs,
  },
  {
    // id, name [T]; the rest [I].
    id: 8,
    name: 'Email Bounced',
    description: 'Marketo Email bounces',
    primaryAttribute: int('Mailing ID'),
    attributes: [...emailAttrs, str('Category'), str('Details')],
  },
  {
    // id, name [T]; the rest [I].
    id: 9,
    name: 'Unsubscribe Email',
    description: 'Person unsubscribes from Marketo Emails',
    primaryAttribute: int('Mailing ID'),
    attributes: [str('Client IP Address'), str('User Agent')],
  },
  {
    // id, name [T]; the rest [I].
    id: 10,
    name: 'Open Email',
    description: 'User opens Marketo Email',
    primaryAttribute: int('Mailing ID'),
    attributes: [...emailAttrs, str('Device'), str('Is Mobile Device'), str('Platform'), str('User Agent')],
  },
  {
    // id, name [T]; the rest [I].
    id: 11,
    name: 'Click Email',
    description: 'User clicks on a link in a Marketo Email',
    primaryAttribute: int('Mailing ID'),
    attributes: [
      ...emailAttrs,
      str('Link'),
      int('Link ID'),
      str('Device'),
      str('Is Mobile Device'),
      str('Platform'),
    ],
  },
  {
    // id, name [T]; the rest [I].
    id: 12,
    name: 'New Lead',
    description: 'New person/record is added to the lead database',
    primaryAttribute: int('Lead ID'),
    attributes: [str('Source Type'), str('Form Name'), str('Lead Source')],
  },
  {
    // id, name [T]; primary attribute = lead field [B]; Reason, Source [Q]; the rest [I].
    id: 13,
    name: 'Change Data Value',
    description: 'Changed attribute value for a person',
    primaryAttribute: int('Attribute Name'),
    attributes: [str('New Value'), str('Old Value'), str('Reason'), str('Source')],
  },
  {
    // id, name [T]; primary attribute = lead field [B]; the rest [I].
    id: 22,
    name: 'Change Score',
    description: 'Change score value for a person',
    primaryAttribute: int('Score Name'),
    attributes: [str('Change Value'), int('Old Value'), int('New Value'), str('Reason')],
  },
  {
    // id, name with its capital T [T]; primary attribute = static list id [B]; the rest [I].
    id: 24,
    name: 'Add To List',
    description: 'Person is added to a list',
    primaryAttribute: int('List ID'),
    attributes: [str('Source')],
  },
  {
    // id, name [T]; primary attribute = static list id [B]; the rest [I].
    id: 25,
    name: 'Remove from List',
    description: 'Person is removed from a list',
    primaryAttribute: int('List ID'),
    attributes: [str('Source')],
  },
  {
    // id, name [T]; primary attribute value id = the lead's id [Q]; the rest [I].
    id: 37,
    name: 'Delete Lead',
    description: 'Delete a person',
    primaryAttribute: int('Lead ID'),
    attributes: [str('Reason'), str('Remove from CRM')],
  },
  {
    // id, name [T]; the rest [I].
    id: 39,
    name: 'Send Sales Email',
    description: 'Sales email is sent to a person',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('Template')],
  },
  {
    // id, name [T]; the rest [I].
    id: 40,
    name: 'Open Sales Email',
    description: 'Person opens a sales email',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('Is Mobile Device')],
  },
  {
    // id, name [T]; the rest [I].
    id: 41,
    name: 'Click Sales Email',
    description: 'Person clicks a link in a sales email',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('Link')],
  },
  {
    // id, name "Receive Sales Email" (not "Received") [T]; the rest [I].
    id: 45,
    name: 'Receive Sales Email',
    description: 'Sales receives an email from a person',
    primaryAttribute: int('Artifact ID'),
    attributes: [str('Source'), str('Subject'), str('From')],
  },
  {
    // id, name [T]; the rest [I].
    id: 46,
    name: 'Interesting Moment',
    description: 'Interesting moment',
    primaryAttribute: int('Marketo Asset Name'),
    attributes: [str('Description'), str('Source')],
  },
  {
    // The world's own custom type: id in the custom range (≥ 100000) [T]; the rest [I].
    id: 100001,
    name: 'Attended Webinar',
    apiName: 'attendedWebinar_c',
    description: 'Person attended a webinar (custom activity)',
    primaryAttribute: str('Webinar Name'),
    attributes: [int('Duration Minutes'), str('Registration Source')],
  },
];
