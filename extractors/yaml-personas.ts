import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Document, isCollection, isMap, LineCounter, parseDocument, visit, YAMLError } from 'yaml';
import { EtlError } from '../src/errors';
import { readBounded } from '../src/scan/json-file';
import { exceedsMaxDepth, MAX_DEPTH, tooDeep } from '../src/scan/limits';
import { listDir, statPath } from '../src/scan/fs-checked';
import type { ApiProfileEntity, Extractor, ExtractorOptions, OpenedSources, PersonaEntity, SourceFile, SourceRecord, SourceStream } from './types';

/**
 * Mul-in-One's persona and API configuration YAML (research/seed-formats.md §1):
 * `persona.yaml` = `personas[]` + file-global `settings`; `api_configuration.yaml` = `apis[]`,
 * `default_api`, `persona_bindings` (a list of {persona, api} or a mapping persona → api). All three
 * real versions of each. A file is recognised by its top-level keys, so any name works; a folder is
 * read for `persona.yaml` and `api_configuration.yaml` (`.yml` too), never the `*.example` templates
 * next to them. Everything is validated before the first write: a YAML error (with line and
 * column), a wrong type, a tab indent, a duplicate key, an unknown tag, an alias bomb, nesting
 * beyond MAX_DEPTH or an unknown top-level key stops the run. Merge keys (`<<`) are applied, as
 * PyYAML does.
 */
const MAX_BYTES = 16 * 1024 * 1024;
const PERSONA_KEYS = ['personas', 'settings'];
const API_KEYS = ['apis', 'default_api', 'persona_bindings'];
const PERSONA_FIELDS = new Set(['name', 'handle', 'prompt', 'tone', 'proactivity', 'catchphrases', 'api', 'api_binding', 'background']);
const INLINE_API_FIELDS = new Set(['name', 'model', 'base_url', 'provider_url', 'url', 'api_key', 'temperature']);
const API_FIELDS = new Set(['name', 'base_url', 'provider_url', 'url', 'model', 'api_key', 'temperature']);
const BACKGROUND_FIELDS = new Set(['content', 'source', 'rag_top_k', 'file', 'rag_enabled']);
const SETTINGS_FIELDS = new Set(['max_agents_per_turn', 'memory_window']);

type Obj = Record<string, unknown>;
type Path = (string | number)[];

interface YamlFile {
  source: SourceFile;
  /** The name users know the file by (relative as given), for messages. */
  shown: string;
  doc: Document;
  lines: LineCounter;
  data: Obj;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function at(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `line ${line}, column ${col}`;
}

function where(f: YamlFile, p: Path): string {
  const node = f.doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
  const offset = node?.range?.[0];
  return offset === undefined ? '' : ` (${at(f.lines, offset)})`;
}

/** Where the key `key` of the mapping at `p` is written (for an unknown key: the key, not its value). */
function whereKey(f: YamlFile, p: Path, key: string): string {
  const map = p.length ? f.doc.getIn(p, true) : f.doc.contents;
  if (!isMap(map)) return where(f, [...p, key]);
  const pair = map.items.find((i) => (i.key as { value?: unknown } | null)?.value === key);
  const offset = (pair?.key as { range?: [number, number, number] } | null)?.range?.[0];
  return offset === undefined ? where(f, [...p, key]) : ` (${at(f.lines, offset)})`;
}

function pathText(p: Path): string {
  return p.map((x, i) => (typeof x === 'number' ? `[${x}]` : i === 0 ? x : `.${x}`)).join('');
}

function typeError(f: YamlFile, p: Path, expected: string): EtlError {
  return new EtlError('SOURCE_CORRUPT', `${f.shown}: ${pathText(p)} must be ${expected}${where(f, p)}; fix the file, nothing was written.`);
}

/**
 * The yaml package's options that make it read what PyYAML's safe_load (the legacy app's reader)
 * reads, and refuse what it refuses: YAML 1.1 merge keys (`<<: *base`) applied, a key twice in one
 * mapping and unknown tags (`!!python/object`) refused, and at most MAX_ALIASES alias expansions
 * (an alias bomb expands a few lines into billions of nodes). A mapping key that is itself a list or
 * a mapping is refused too (PyYAML: "found unhashable key"; the yaml package would stringify it with
 * a process warning on stderr, which logLevel 'error' silences).
 */
const PARSE_OPTIONS = { uniqueKeys: true, prettyErrors: false, strict: true, merge: true, logLevel: 'error' } as const;
const MAX_ALIASES = 100;

/** A YAML problem as one sentence naming the file, where, and what to do. */
function yamlProblem(shown: string, lines: LineCounter, e: unknown): EtlError {
  if (e instanceof EtlError) return e;
  const fix = 'fix the file, nothing was written.';
  if (e instanceof YAMLError) {
    const what =
      e.code === 'TAB_AS_INDENT'
        ? 'a tab is used for indentation (YAML allows only spaces)'
        : e.code === 'DUPLICATE_KEY'
          ? 'a key appears twice in one mapping'
          : e.code === 'TAG_RESOLVE_FAILED'
            ? 'an unknown tag (PyYAML safe_load refuses tags like !!python/object)'
            : e.code === 'RESOURCE_EXHAUSTION'
              ? `it nests too deeply (more than ${MAX_DEPTH} levels are refused)`
              : e.message.split('\n')[0];
    return new EtlError('SOURCE_CORRUPT', `${shown} is not valid YAML at ${at(lines, e.pos[0])}: ${what}; ${fix}`);
  }
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  if (/alias count/i.test(message)) {
    return new EtlError('SOURCE_CORRUPT', `${shown} expands aliases (*name) more than ${MAX_ALIASES} times, like a "billion laughs" alias bomb; etl refuses it, ${fix}`);
  }
  if (e instanceof RangeError) return new EtlError('SOURCE_CORRUPT', `${shown} nests too deeply to read (more than ${MAX_DEPTH} levels are refused); ${fix}`);
  return new EtlError('SOURCE_CORRUPT', `${shown} cannot be read as YAML (${message}); ${fix}`);
}

async function readYaml(file: string, shown: string): Promise<YamlFile> {
  const buf = await readBounded(file, 'persona or API configuration file', MAX_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new EtlError('SOURCE_CORRUPT', `${shown} is not UTF-8 text; save it as UTF-8 and run again.`);
  }
  const lines = new LineCounter();
  let doc: Document;
  let data: unknown;
  // Every failure of the yaml package (syntax, tags, aliases, depth) becomes one sentence here.
  try {
    doc = parseDocument(text, { lineCounter: lines, ...PARSE_OPTIONS });
    const err = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
    if (err) throw err;
    visit(doc, {
      Pair(_, pair) {
        const key = pair.key as { range?: [number, number, number] } | null;
        if (isCollection(pair.key)) throw new EtlError('SOURCE_CORRUPT', `${shown} is not valid YAML at ${at(lines, key?.range?.[0] ?? 0)}: a mapping key is a list or a mapping (PyYAML refuses such keys); fix the file, nothing was written.`);
      },
    });
    data = doc.toJS({ maxAliasCount: MAX_ALIASES }) as unknown;
  } catch (e) {
    throw yamlProblem(shown, lines, e);
  }
  if (exceedsMaxDepth(data)) throw tooDeep(shown, 'in its data');
  const source: SourceFile = { path: path.resolve(file), sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length };
  const f: YamlFile = { source, shown, doc, lines, data: {} };
  if (data === null || data === undefined) throw new EtlError('SOURCE_CORRUPT', `${shown} is empty; give a persona.yaml (personas:, settings:) or an api_configuration.yaml (apis:, default_api:, persona_bindings:).`);
  if (!isObj(data) || !isMap(doc.contents)) throw new EtlError('SOURCE_CORRUPT', `${shown}: the top level must be a mapping (personas:/settings: or apis:/default_api:/persona_bindings:); fix the file, nothing was written.`);
  f.data = data;
  return f;
}

function kindOf(f: YamlFile): 'persona' | 'api' {
  const keys = Object.keys(f.data);
  for (const k of keys) {
    if (!PERSONA_KEYS.includes(k) && !API_KEYS.includes(k)) {
      throw new EtlError(
        'SOURCE_CORRUPT',
        `${f.shown} has an unknown top-level key "${k}"${whereKey(f, [], k)}; a persona file has ${PERSONA_KEYS.join(', ')} and an API configuration ${API_KEYS.join(', ')}.`,
      );
    }
  }
  const persona = keys.some((k) => PERSONA_KEYS.includes(k));
  const api = keys.some((k) => API_KEYS.includes(k));
  if (persona && api) throw new EtlError('SOURCE_CORRUPT', `${f.shown} mixes persona keys (${PERSONA_KEYS.join(', ')}) and API configuration keys (${API_KEYS.join(', ')}); keep them in two files.`);
  if (!persona && !api) throw new EtlError('SOURCE_CORRUPT', `${f.shown} has no personas: nor apis:.`);
  return persona ? 'persona' : 'api';
}

const isText = (v: unknown) => typeof v === 'string';
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

function optional(f: YamlFile, obj: Obj, p: Path, key: string, ok: (v: unknown) => boolean, expected: string): void {
  const v = obj[key];
  if (v !== undefined && v !== null && !ok(v)) throw typeError(f, [...p, key], expected);
}

function unknownKeys(f: YamlFile, obj: Obj, p: Path, known: Set<string>, notes: string[]): void {
  for (const k of Object.keys(obj)) if (!known.has(k)) notes.push(`${f.shown}: ${pathText([...p, k])} is not a field etl knows${whereKey(f, p, k)}; ignored`);
}

/** Validates the persona file's types (a missing name is a per-record reject, not a file error). */
function checkPersonaFile(f: YamlFile, notes: string[]): { personas: Obj[]; settings: Obj } {
  const personas = f.data.personas ?? [];
  if (!Array.isArray(personas)) throw typeError(f, ['personas'], 'a list of personas');
  personas.forEach((p, i) => {
    const at: Path = ['personas', i];
    if (!isObj(p)) throw typeError(f, at, 'a mapping (name:, handle:, prompt:, …)');
    unknownKeys(f, p, at, PERSONA_FIELDS, notes);
    for (const k of ['name', 'handle', 'prompt', 'tone', 'api_binding']) optional(f, p, at, k, isText, 'text');
    optional(f, p, at, 'proactivity', (v) => isNum(v) && (v as number) >= 0 && (v as number) <= 1, 'a number from 0 to 1');
    optional(f, p, at, 'catchphrases', (v) => Array.isArray(v) && v.every(isText), 'a list of texts');
    optional(f, p, at, 'api', (v) => isText(v) || isObj(v), 'an API name or a mapping (model:, base_url:, api_key:, temperature:)');
    if (isObj(p.api)) {
      unknownKeys(f, p.api, [...at, 'api'], INLINE_API_FIELDS, notes);
      for (const k of ['name', 'model', 'base_url', 'provider_url', 'url']) optional(f, p.api, [...at, 'api'], k, isText, 'text');
      optional(f, p.api, [...at, 'api'], 'api_key', (v) => isText(v) || isNum(v), 'text');
      optional(f, p.api, [...at, 'api'], 'temperature', isNum, 'a number');
    }
    optional(f, p, at, 'background', (v) => isText(v) || isObj(v), 'text or a mapping (content:, source:, rag_top_k:)');
    if (isObj(p.background)) {
      const b = p.background;
      unknownKeys(f, b, [...at, 'background'], BACKGROUND_FIELDS, notes);
      for (const k of ['content', 'source', 'file']) optional(f, b, [...at, 'background'], k, isText, 'text');
      optional(f, b, [...at, 'background'], 'rag_top_k', (v) => Number.isInteger(v) && (v as number) > 0, 'a positive integer');
      optional(f, b, [...at, 'background'], 'rag_enabled', (v) => typeof v === 'boolean', 'true or false');
    }
  });
  const settings = f.data.settings ?? {};
  if (!isObj(settings)) throw typeError(f, ['settings'], 'a mapping (max_agents_per_turn:, memory_window:)');
  unknownKeys(f, settings, ['settings'], SETTINGS_FIELDS, notes);
  for (const k of SETTINGS_FIELDS) optional(f, settings, ['settings'], k, (v) => Number.isInteger(v) && (v as number) >= -1, 'an integer (-1 = unlimited)');
  return { personas: personas as Obj[], settings };
}

interface ApiConfig {
  apis: Obj[];
  defaultApi: string | null;
  /** [persona as written, api] in file order. */
  bindings: [string, string][];
}

function checkApiFile(f: YamlFile, notes: string[]): ApiConfig {
  const apis = f.data.apis;
  if (!Array.isArray(apis) || apis.length === 0) throw typeError(f, ['apis'], 'a non-empty list of APIs');
  apis.forEach((a, i) => {
    const at: Path = ['apis', i];
    if (!isObj(a)) throw typeError(f, at, 'a mapping (name:, base_url:, model:, api_key:, temperature:)');
    unknownKeys(f, a, at, API_FIELDS, notes);
    for (const k of ['name', 'base_url', 'provider_url', 'url', 'model']) optional(f, a, at, k, isText, 'text');
    optional(f, a, at, 'api_key', (v) => isText(v) || isNum(v), 'text');
    optional(f, a, at, 'temperature', isNum, 'a number');
  });
  optional(f, f.data, [], 'default_api', isText, 'the name of one of the apis');
  const names = apis.map((a) => (isText((a as Obj).name) ? ((a as Obj).name as string).trim() : null));
  const defaultApi = isText(f.data.default_api) ? (f.data.default_api as string).trim() : null;
  if (defaultApi !== null && !names.includes(defaultApi)) {
    throw new EtlError('SOURCE_CORRUPT', `${f.shown}: default_api "${defaultApi}"${where(f, ['default_api'])} is not the name of any of the apis (${names.filter(Boolean).join(', ')}).`);
  }
  const raw = f.data.persona_bindings ?? [];
  const bindings: [string, string][] = [];
  if (Array.isArray(raw)) {
    raw.forEach((b, i) => {
      const at: Path = ['persona_bindings', i];
      if (!isObj(b) || !isText(b.persona) || !isText(b.api)) throw typeError(f, at, 'a mapping with persona: and api: texts');
      bindings.push([b.persona as string, b.api as string]);
    });
  } else if (isObj(raw)) {
    for (const [persona, api] of Object.entries(raw)) {
      if (!isText(api)) throw typeError(f, ['persona_bindings', persona], 'an API name');
      bindings.push([persona, api as string]);
    }
  } else {
    throw typeError(f, ['persona_bindings'], 'a list of {persona, api} or a mapping persona: api');
  }
  return { apis: apis as Obj[], defaultApi: defaultApi ?? names[0] ?? null, bindings };
}

function memoryStream(name: string, source: SourceFile, records: SourceRecord[], entity: SourceStream['entity']): SourceStream {
  return {
    name,
    entity,
    source,
    count: records.length,
    async *read(fromOrdinal: number) {
      const rest = records.slice(fromOrdinal);
      if (rest.length) yield rest;
    },
  };
}

const fold = (s: string) => s.trim().toLowerCase();
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() : undefined);

function apiEntity(a: Obj, isDefault: boolean): ApiProfileEntity {
  return {
    kind: 'api_profile',
    name: a.name,
    baseUrl: a.base_url ?? a.provider_url ?? a.url,
    model: a.model,
    apiKey: a.api_key,
    temperature: a.temperature,
    isDefault,
  };
}

async function expand(paths: string[]): Promise<[string, string][]> {
  const files: [string, string][] = [];
  for (const p of paths) {
    if (!(await statPath(p)).isDirectory()) {
      files.push([p, p]);
      continue;
    }
    const names = await listDir(p);
    const found = ['persona.yaml', 'persona.yml', 'api_configuration.yaml', 'api_configuration.yml'].filter((n) => names.includes(n));
    if (found.length === 0) throw new EtlError('SOURCE_NOT_FOUND', `${p} holds neither persona.yaml nor api_configuration.yaml; name the files, or the folder that holds them.`);
    for (const n of found) files.push([path.join(p, n), path.join(p, n)]);
  }
  return files;
}

async function open(paths: string[], _options: ExtractorOptions): Promise<OpenedSources> {
  if (paths.length === 0) throw new EtlError('USAGE', 'etl run yaml-personas needs persona.yaml, api_configuration.yaml, or a folder holding them.');
  const notes: string[] = [];
  let personaFile: YamlFile | undefined;
  let apiFile: YamlFile | undefined;
  for (const [file, shown] of await expand(paths)) {
    const f = await readYaml(file, shown);
    const kind = kindOf(f);
    const taken = kind === 'persona' ? personaFile : apiFile;
    if (taken) throw new EtlError('USAGE', `${taken.shown} and ${shown} are both ${kind === 'persona' ? 'persona files' : 'API configurations'}; run them one at a time.`);
    if (kind === 'persona') personaFile = f;
    else apiFile = f;
  }
  const personaData = personaFile ? checkPersonaFile(personaFile, notes) : undefined;
  const apiData = apiFile ? checkApiFile(apiFile, notes) : undefined;

  const streams: SourceStream[] = [];
  let secrets = 0;
  const hasKey = (v: unknown) => (isText(v) && (v as string).trim() !== '') || isNum(v);
  const apisByName = new Map<string, Obj>();
  if (apiFile && apiData) {
    const records = apiData.apis.map((a, i): SourceRecord => {
      if (hasKey(a.api_key)) secrets++;
      const name = text(a.name);
      if (name && !apisByName.has(name)) apisByName.set(name, a);
      return { locator: { file: apiFile.source.path, table: 'apis', id: String(i) }, ordinal: i, entity: apiEntity(a, name !== undefined && name === apiData.defaultApi), raw: a };
    });
    streams.push(memoryStream('apis', apiFile.source, records, 'api_profile'));
  }

  if (personaFile && personaData) {
    const { personas, settings } = personaData;
    // Which API a persona gets, as Mul-in-One's apply_api_bindings decides: its own api_binding (or
    // `api` name) first, then persona_bindings by handle, then by name, then default_api; a name no
    // API has falls through to the next rule. Without the API file the own name is kept (the writer
    // then looks for it in the target).
    const byKey = new Map((apiData?.bindings ?? []).map(([who, api]) => [fold(who), { api: api.trim(), as: `persona_bindings: ${who} → ${api}` }]));
    const known = (api: string | undefined) => api !== undefined && (!apiData || apisByName.has(api));
    for (const [who] of apiData?.bindings ?? []) {
      if (!personas.some((p) => [text(p.handle), text(p.name)].some((k) => k !== undefined && fold(k) === fold(who)))) notes.push(`${apiFile?.shown}: persona_bindings names persona "${who}", which no persona has as handle or name; ignored`);
    }
    const inline: SourceRecord[] = [];
    const records = personas.map((p, i): SourceRecord => {
      const own = text(p.api_binding) ?? text(p.api);
      const listed = [text(p.handle) ?? text(p.name), text(p.name)].map((k) => (k === undefined ? undefined : byKey.get(fold(k)))).find((b) => known(b?.api));
      if (own !== undefined && !known(own)) notes.push(`${personaFile.shown}: persona "${text(p.name) ?? i}" names API "${own}", which the API configuration lacks; it gets the next rule's API, as Mul-in-One does`);
      const binding = known(own) ? undefined : listed;
      const named = known(own) ? own : binding?.api;
      const apiName = named ?? (apiData ? apiData.defaultApi : null);
      let profile: string | null = apiName;
      if (isObj(p.api)) {
        // An inline API mapping overrides the fields of the API the persona is bound to: its own profile.
        if (hasKey(p.api.api_key)) secrets++;
        const handle = fold(text(p.handle) ?? text(p.name) ?? String(i)).replace(/ /g, '_');
        profile = text(p.api.name) ?? `persona:${handle}`;
        const base = apiName ? apisByName.get(apiName) : undefined;
        const merged: Obj = { ...(base ?? {}), ...Object.fromEntries(Object.entries(p.api).filter(([, v]) => v !== undefined && v !== null)), name: profile };
        if (p.api.base_url === undefined && (p.api.provider_url !== undefined || p.api.url !== undefined)) delete merged.base_url;
        inline.push({ locator: { file: personaFile.source.path, table: 'personas.api', id: String(i) }, ordinal: inline.length, entity: apiEntity(merged, false), raw: p.api });
      }
      const bg = p.background;
      const entity: PersonaEntity = {
        kind: 'persona',
        name: p.name,
        handle: p.handle,
        prompt: p.prompt,
        tone: p.tone,
        proactivity: p.proactivity,
        catchphrases: p.catchphrases,
        memoryWindow: settings.memory_window,
        maxAgentsPerTurn: settings.max_agents_per_turn,
        apiProfile: profile,
        apiBinding: binding?.as ?? (named !== undefined ? named : apiName !== null ? `default_api: ${apiName}` : undefined),
        background: isObj(bg) ? bg.content : bg,
        backgroundOptions: isObj(bg) ? Object.fromEntries(Object.entries(bg).filter(([k]) => k !== 'content')) : undefined,
      };
      return { locator: { file: personaFile.source.path, table: 'personas', id: String(i) }, ordinal: i, entity, raw: p };
    });
    if (inline.length) streams.push(memoryStream('personas.api', personaFile.source, inline, 'api_profile'));
    streams.push(memoryStream('personas', personaFile.source, records, 'persona'));
  }
  const sources = [apiFile?.source, personaFile?.source].filter((s): s is SourceFile => s !== undefined);
  return { sources, streams, notes, secrets };
}

export const yamlPersonasExtractor: Extractor = {
  name: 'yaml-personas',
  summary: "Mul-in-One's persona.yaml and api_configuration.yaml (files, or a folder holding them)",
  open,
};
