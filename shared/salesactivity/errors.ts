/** A custom activity type exists in Marketo with a shape this product did not give it. */
export class CustomActivityTypeConflictError extends Error {
  override readonly name = 'CustomActivityTypeConflictError';
  constructor(apiName: string, detail: string, options?: { cause?: unknown }) {
    super(
      `Marketo custom activity type "${apiName}" exists with other attributes (${detail}). The sync never alters a type it did not create: choose another apiName in settings salesActivities.activityType.apiName, or fix the type in Marketo Admin > Marketo Custom Activities.`,
      options,
    );
  }
}

/** Another process holds the type set-up lease and the type did not become ready in time. */
export class CustomActivityTypeNotReadyError extends Error {
  override readonly name = 'CustomActivityTypeNotReadyError';
  constructor(apiName: string, options?: { cause?: unknown }) {
    super(
      `Marketo custom activity type "${apiName}" is not approved yet and another run is setting it up; run again in a minute.`,
      options,
    );
  }
}
