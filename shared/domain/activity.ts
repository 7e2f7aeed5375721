import * as z from 'zod';

/**
 * A Marketo activity and activity type as the sync handles them (Get Lead Activities, Get Activity
 * Types; typed from the Swagger in ../shared/reference/marketo/). The Marketo adapter validates
 * responses with these schemas; write messages carry activities in this shape.
 */

export const activityAttributeSchema = z.object({ name: z.string(), value: z.unknown() });

export const activitySchema = z.object({
  id: z.number().optional(),
  marketoGUID: z.string().min(1),
  leadId: z.number().int(),
  activityDate: z.string(),
  activityTypeId: z.number().int(),
  campaignId: z.number().int().nullish(),
  primaryAttributeValueId: z.union([z.number(), z.string()]).nullish(),
  primaryAttributeValue: z.string().nullish(),
  attributes: z.array(activityAttributeSchema).optional(),
});
export type Activity = z.infer<typeof activitySchema>;

export const activityTypeSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().optional(),
  primaryAttribute: z.object({ name: z.string(), dataType: z.string() }).optional(),
  attributes: z.array(z.object({ name: z.string(), dataType: z.string() })).optional(),
});
export type ActivityType = z.infer<typeof activityTypeSchema>;
