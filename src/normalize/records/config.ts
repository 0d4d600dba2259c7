/** Configuration records (persona YAML): API profiles and personas. */
import type { ApiProfileEntity, PersonaEntity } from '../../../extractors/types';
import type { ApiProfileRow, PersonaRow } from '../../../loaders/rows';
import { rowId } from '../ids';
import { etl, finite, type NormalizeContext, type Normalized, reject, required, Text } from './common';

/** A count where the legacy files write -1 for "unlimited": NULL here. */
function limit(v: unknown, dflt: number): number | null | undefined {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1) return undefined;
  return v === -1 ? null : v;
}

/** Mul-in-One's handle rule (service `_normalize_handle`): strip, lower case, spaces to `_`. */
export function personaHandle(v: string): string {
  return v.trim().toLowerCase().replace(/ /g, '_');
}

export function apiProfile(e: ApiProfileEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', 'API has no name');
  const baseUrl = required(e.baseUrl, text);
  if (baseUrl === null) return reject('missing_base_url', `API "${name}" has no base_url (nor provider_url or url)`);
  const model = required(e.model, text);
  if (model === null) return reject('missing_model', `API "${name}" has no model`);
  const key = typeof e.apiKey === 'number' ? String(e.apiKey) : typeof e.apiKey === 'string' ? e.apiKey.trim() : '';
  const row: ApiProfileRow = {
    id: rowId(ctx.tenant, 'api_profile', name),
    tenant_id: ctx.tenantId,
    name,
    base_url: baseUrl,
    model,
    api_key_cipher: null,
    api_key_encrypted: true,
    api_key_fingerprint: null,
    temperature: finite(e.temperature),
    is_default: e.isDefault === true,
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.notes(), secret: key === '' ? undefined : key };
}

export function persona(e: PersonaEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', 'persona has no name');
  const handle = personaHandle(required(e.handle, text) ?? name);
  if (handle === '') return reject('missing_handle', `persona "${name}" has an empty handle`);
  const proactivity = e.proactivity === undefined || e.proactivity === null ? 0.5 : finite(e.proactivity);
  if (proactivity === null || proactivity < 0 || proactivity > 1) return reject('invalid_proactivity', `persona "${name}": proactivity ${JSON.stringify(e.proactivity)} is not a number from 0 to 1`);
  const memory = limit(e.memoryWindow, 8);
  const agents = limit(e.maxAgentsPerTurn, 2);
  if (memory === undefined || agents === undefined) return reject('invalid_setting', 'memory_window and max_agents_per_turn must be integers (-1 = unlimited)');
  const phrases = Array.isArray(e.catchphrases) ? e.catchphrases.filter((p): p is string => typeof p === 'string').map((p) => text.str(p) ?? p) : [];
  const apiName = e.apiProfile ?? null;
  const row: PersonaRow = {
    id: rowId(ctx.tenant, 'persona', handle),
    tenant_id: ctx.tenantId,
    name,
    handle,
    prompt: text.str(e.prompt) ?? '',
    tone: required(e.tone, text) ?? 'neutral',
    proactivity,
    memory_window: memory,
    max_agents_per_turn: agents,
    api_profile_id: apiName === null ? null : rowId(ctx.tenant, 'api_profile', apiName),
    api_binding: required(e.apiBinding, text),
    catchphrases: phrases,
    background: text.str(e.background),
    background_options: e.backgroundOptions && typeof e.backgroundOptions === 'object' ? text.deep(e.backgroundOptions as Record<string, unknown>) : null,
    ...etl(ctx, locator),
    _api_name: apiName,
  };
  return { ok: true, row, notes: text.notes() };
}
