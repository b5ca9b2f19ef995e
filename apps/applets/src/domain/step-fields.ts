/**
 * A Location field value, as in the IFTTT Service API's `Location` schema (`lat`/`lng` required).
 *
 * @example
 *   const office: LocationValue = { lat: 52.52, lng: 13.405, radius: 250 };
 */
export interface LocationValue {
  lat: number;
  lng: number;
  radius?: number;
  address?: string;
  description?: string;
  zoom?: number;
}

/**
 * Trigger or action fields: a map of field slug to value, where a value is a string or a Location
 * (the Service API's `StepFields`). Action field strings may hold `{{Ingredient}}` placeholders.
 *
 * @example
 *   const triggerFields: StepFields = { city: 'Berlin' };
 *   const actionFields: StepFields = { message: 'Rain tomorrow in {{City}}' };
 */
export type StepFields = Record<string, string | LocationValue>;
