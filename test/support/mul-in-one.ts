/**
 * Mul-in-One as its own code reads the target, reimplemented in Python for tests (app-targets.md
 * §2): the persona files as its loader reads them (PyYAML safe_load), which API each persona gets
 * as `apply_api_bindings` decides, and every stored key decrypted with `cryptography`'s Fernet under
 * urlsafe_b64encode(sha256(MUL_IN_ONE_ENCRYPTION_KEY)). The TypeScript under test is not used.
 */
import type { Knex } from 'knex';
import { runPython } from '../normalize/python';
import { runEtl } from './cli';

export const MIO_TABLES = ['users', 'api_profiles', 'personas'];

/** What the app shows for one persona of the owner: its texts and the API it would call with. */
export interface AppPersona {
  handle: string;
  name: string;
  prompt: string;
  tone: string;
  memory_window: number;
  max_agents_per_turn: number;
  api: { base_url: string; model: string; api_key: string; temperature: number } | null;
}

// The app's loader and apply_api_bindings, written from the app's code (api_config.py, persona.py).
const REFERENCE = `
import yaml, base64, hashlib
from cryptography.fernet import Fernet, InvalidToken
f = Fernet(base64.urlsafe_b64encode(hashlib.sha256(data['passphrase'].encode('utf-8')).digest()))
def plain(k):
    k = str(k if k is not None else '').strip()
    try: return f.decrypt(k.encode()).decode()
    except (InvalidToken, ValueError): return k
def nk(s): return s.strip().lower() if isinstance(s, str) else None
p = yaml.safe_load(open(data['persona'], encoding='utf-8')) or {}
a = yaml.safe_load(open(data['api'], encoding='utf-8')) if data['api'] else {'apis': []}
configs = {}
for e in a.get('apis') or []:
    if not isinstance(e, dict): continue
    configs.setdefault(e['name'].strip(), dict(base_url=e.get('base_url') or e.get('provider_url') or e.get('url'), model=e['model'], api_key=plain(e.get('api_key', '')), temperature=e.get('temperature')))
raw_b = a.get('persona_bindings') or {}
pairs = [(b['persona'], b['api']) for b in raw_b] if isinstance(raw_b, list) else list(raw_b.items())
bindings = {nk(k): v.strip() for k, v in pairs}
default = configs.get((a.get('default_api') or '').strip()) or next(iter(configs.values()), None)
settings = p.get('settings') or {}
seen, result = set(), []
for raw in p.get('personas') or []:
    if not raw.get('name'): continue
    name = raw['name'].strip()
    handle = (raw.get('handle') or name).strip().lower().replace(' ', '_')
    if handle in seen: continue
    seen.add(handle)
    api = raw.get('api')
    own = raw.get('api_binding') or (api if isinstance(api, str) else None)
    entry = configs.get(own.strip()) if own else None
    if not entry:
        for ident in ((raw.get('handle') or name.lower()), name):
            entry = configs.get(bindings.get(nk(ident)) or '')
            if entry: break
    entry = entry or default
    if isinstance(api, dict):
        entry = dict(entry or {})
        for k in ('model', 'base_url', 'api_key', 'temperature'):
            if api.get(k) is not None: entry[k] = plain(api[k]) if k == 'api_key' else api[k]
    if entry is not None:
        entry = dict(entry, temperature=0.4 if entry.get('temperature') is None else float(entry['temperature']))
    unl = lambda v, d: d if v is None else v
    result.append(dict(handle=handle, name=name, prompt=raw.get('prompt') or '', tone=(raw.get('tone') or 'neutral').strip(),
        memory_window=unl(settings.get('memory_window'), 8), max_agents_per_turn=unl(settings.get('max_agents_per_turn'), 2), api=entry))
out(sorted(result, key=lambda x: x['handle']))
`;

/** What Mul-in-One would show for the files, as its own loader and binding rules read them. */
export function expectedPersonas(personaFile: string, apiFile: string | null, passphrase: string): AppPersona[] {
  return runPython<AppPersona[]>(REFERENCE, { persona: personaFile, api: apiFile, passphrase });
}

/** The owner's personas as the app lists them, each with the profile it binds, keys decrypted by Python. */
export async function appPersonas(knex: Knex, owner: string, passphrase: string): Promise<AppPersona[]> {
  const rows = (
    await knex.raw(
      `select p.handle, p.name, p.prompt, p.tone, p.memory_window, p.max_agents_per_turn,
         case when a.id is null then null else json_build_object('base_url', a.base_url, 'model', a.model, 'api_key', a.api_key_cipher, 'temperature', a.temperature) end as api
       from public.personas p join public.users u on u.id = p.user_id left join public.api_profiles a on a.id = p.api_profile_id
       where u.username = ? order by p.handle`,
      [owner],
    )
  ).rows as AppPersona[];
  return decryptKeys(rows, passphrase);
}

/** Replaces every stored key by what the app's decrypt gives; a value that is not a token fails the test (the app would use it as the key). */
function decryptKeys(rows: AppPersona[], passphrase: string): AppPersona[] {
  return runPython<AppPersona[]>(
    `import base64, hashlib
from cryptography.fernet import Fernet
f = Fernet(base64.urlsafe_b64encode(hashlib.sha256(data['passphrase'].encode('utf-8')).digest()))
for r in data['rows']:
    if r['api'] and r['api']['api_key'] != '': r['api']['api_key'] = f.decrypt(r['api']['api_key'].encode()).decode()
out(data['rows'])`,
    { rows, passphrase },
  );
}

/** Passwords nobody may log in with: empty, the legacy defaults, the owner's name. */
export const REFUSED_PASSWORDS = ['', '123456', 'password', 'changeme', 'admin'];

/**
 * Python's bcrypt against the stored hash (FastAPI-Users' pwdlib verifies bcrypt alike): whether
 * it is a bcrypt hash at all (checkpw raises on anything else), and which of `passwords` open it.
 */
export function bcryptOpens(hash: string, passwords: readonly string[]): { bcrypt: boolean; opens: string[] } {
  return runPython(
    `import bcrypt
try: out(dict(bcrypt=True, opens=[p for p in data['passwords'] if bcrypt.checkpw(p.encode(), data['hash'].encode())]))
except ValueError: out(dict(bcrypt=False, opens=[]))`,
    { hash, passwords },
  );
}

/** Each row's xmin per table: unchanged exactly when no row was rewritten. */
export async function appVersions(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of MIO_TABLES) out[t] = (await knex.raw(`select coalesce(string_agg(id || ':' || xmin, ',' order by id), '') as v from public."${t}"`)).rows[0].v;
  return out;
}

/**
 * Loads one persona + API file pair for `owner` into a Mul-in-One database as a user would, then
 * checks what the app would show against the Python reading of the files, that no login opens
 * the owner, and that a rerun rewrites no row. Returns the owner's personas as the app lists them.
 */
export async function expectOwnerLoads(db: { url: string; knex: Knex }, files: readonly [string, string], owner: string, passphrase: string): Promise<AppPersona[]> {
  const env = { DATABASE_URL: db.url, MUL_IN_ONE_ENCRYPTION_KEY: passphrase };
  const args = ['run', 'yaml-personas', ...files, '--target', 'mul-in-one', '--owner', owner, '--owner-email', `${owner}@example.com`, '--bcrypt-cost', '4'];
  const r = await runEtl(args, { env });
  expect(r.code).toBe(0);
  // the one thing logged: the owner etl created
  expect(r.stderr.trim().split('\n').map((l) => JSON.parse(l).msg)).toEqual([expect.stringMatching(/^created the owner in Mul-in-One/)]);
  const got = await appPersonas(db.knex, owner, passphrase);
  expect(got).toEqual(expectedPersonas(files[0], files[1], passphrase));
  const [{ hashed_password }] = (await db.knex.raw('select hashed_password from public.users where username = ?', [owner])).rows;
  expect(bcryptOpens(hashed_password, [...REFUSED_PASSWORDS, owner])).toEqual({ bcrypt: true, opens: [] });
  const before = await appVersions(db.knex);
  expect((await runEtl([...args, '--restart'], { env })).code).toBe(0);
  expect(await appVersions(db.knex)).toEqual(before);
  return got;
}
