import type { AppletRow } from '../data/applet-repository';
import type { StepFields } from './step-fields';

/**
 * An applet as the API shows it. Ids are strings (bigint in the database); `trigger_identity` is included
 * because partners see it in every trigger call, so users and support can correlate. `disabled_reason`
 * says why the engine switched it off (its last runs all failed); null otherwise, and cleared when the
 * user enables it again.
 *
 * @example
 *   { id: '7', enabled: true, disabled_reason: null,
 *     trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Berlin' }, trigger_identity: '9c…' },
 *     action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
 *     created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }
 */
export interface Applet {
  id: string;
  enabled: boolean;
  disabled_reason: string | null;
  trigger: { service: string; slug: string; fields: StepFields; trigger_identity: string };
  action: { service: string; slug: string; fields: StepFields };
  created_at: string;
  updated_at: string;
}

/** What creating an applet needs (the validated request body). */
export interface CreateAppletInput {
  trigger: { service: string; slug: string; fields: StepFields };
  action: { service: string; slug: string; fields: StepFields };
  enabled: boolean;
}

/** What an update may change: enable/disable, and replace trigger or action fields whole. */
export interface UpdateAppletInput {
  enabled?: boolean;
  trigger?: { fields: StepFields };
  action?: { fields: StepFields };
}

/**
 * Maps a stored row to its API shape (the one place that knows both).
 *
 * @example
 *   res.json(toApplet(row));
 */
export function toApplet(row: AppletRow): Applet {
  return {
    id: row.id,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    trigger: {
      service: row.trigger_service_slug,
      slug: row.trigger_slug,
      fields: row.trigger_fields,
      trigger_identity: row.trigger_identity,
    },
    action: { service: row.action_service_slug, slug: row.action_slug, fields: row.action_fields },
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
