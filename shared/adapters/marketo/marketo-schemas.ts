import * as z from 'zod';

/** Response envelopes and record shapes not covered by marketo-api.ts (Swagger: ResponseOf*). */

export const marketoErrorSchema = z.object({
  code: z.union([z.string(), z.number()]).transform(String),
  message: z.string().optional().default(''),
});

export const envelopeSchema = z
  .object({
    requestId: z.string().optional(),
    success: z.boolean(),
    errors: z.array(marketoErrorSchema).optional(),
    warnings: z.array(z.unknown()).optional(),
    result: z.array(z.unknown()).optional(),
    nextPageToken: z.string().optional(),
    moreResult: z.boolean().optional(),
  })
  .loose();
export type Envelope = z.infer<typeof envelopeSchema>;

export const identitySchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().int().nonnegative(),
  scope: z.string().optional(),
});

export const syncLeadResultSchema = z.object({
  id: z.number().int().optional(),
  status: z.enum(['created', 'updated', 'skipped']),
  reasons: z.array(marketoErrorSchema).optional(),
});

export const customActivityResultSchema = z.object({
  id: z.number().int().optional(),
  marketoGUID: z.string().optional(),
  status: z.enum(['added', 'skipped']),
  errors: z.array(marketoErrorSchema).optional(),
});

export const customActivityTypeSchema = z
  .object({
    id: z.number().int(),
    apiName: z.string(),
    name: z.string(),
    status: z.string().optional(),
  })
  .loose();
export type CustomActivityType = z.infer<typeof customActivityTypeSchema>;
