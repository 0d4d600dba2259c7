import { EtlError } from '../errors';

export type TimestampResult = { ok: true; value: string } | { ok: false; reason: string };

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
// datetime.min and datetime.max as UTC epoch seconds: Python raises OverflowError outside them.
const MIN_UTC = -62135596800;
const MAX_UTC = 253402300799;

// What Python's isoformat() writes (plus HH:MM without seconds); the optional tinydb-serialization tag
// is stripped first. Groups: date, time, fraction, offset sign/hours/minutes.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
const TINYDATE = '{TinyDate}:';

/**
 * Parses a legacy timestamp into canonical UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`. A naive value is wall
 * time in `sourceTimeZone`, resolved like Python's `datetime(..., tzinfo=ZoneInfo(tz))` with fold=0
 * (DST overlap: the earlier instant; DST gap: the offset before the transition). Microseconds are
 * carried as digits beside whole seconds, since JS Date only keeps milliseconds.
 */
export function parseTimestamp(input: unknown, sourceTimeZone: string): TimestampResult {
  if (typeof input !== 'string') return fail(`expected a timestamp string, got ${describeValue(input)}`);
  const text = input.startsWith(TINYDATE) ? input.slice(TINYDATE.length) : input;
  if (text === '') return fail('the timestamp is an empty string');
  const m = ISO.exec(text);
  if (!m) return fail(`${quote(input)} is not an ISO-8601 timestamp`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zulu, sign, offH, offM = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return fail(`${quote(input)} is not a valid date`);
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return fail(`${quote(input)} is not a valid time of day`);
  if (fraction.length > 6) {
    return fail(`${quote(input)} has more than 6 fractional-second digits; only microseconds are kept`);
  }
  if (sign && (Number(offH) > 23 || Number(offM) > 59)) return fail(`${quote(input)} has an invalid UTC offset`);

  const wall = daysFromCivil(year, month, day) * DAY + Number(h) * HOUR + Number(mi) * MINUTE + Number(s);
  let offset: number;
  if (zulu) offset = 0;
  else if (sign) offset = (sign === '-' ? -1 : 1) * (Number(offH) * HOUR + Number(offM) * MINUTE);
  else offset = zoneOffset(wall, zone(sourceTimeZone));
  const utc = wall - offset;
  if (utc < MIN_UTC || utc > MAX_UTC) return fail(`${quote(input)} is outside years 1-9999 once converted to UTC`);
  const iso = new Date(utc * 1000).toISOString(); // formatting only; always a 4-digit year in this range
  return { ok: true, value: `${iso.slice(0, 19)}.${fraction.padEnd(6, '0')}Z` };
}

/** Fails fast on a bad --source-timezone before any record is read. */
export function assertTimeZone(tz: string): void {
  zone(tz);
}

type Zone = { format: Intl.DateTimeFormat; utc: boolean; hourOffsets: Map<number, number> };

const zones = new Map<string, Zone>();
// Offsets of whole local hours far from any transition; bounded so a long run cannot grow it forever.
const MAX_CACHED_HOURS = 100_000;

function zone(tz: string): Zone {
  let z = zones.get(tz);
  if (!z) {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new EtlError(
        'USAGE',
        `Unknown time zone ${JSON.stringify(tz)} for --source-timezone; use an IANA name such as UTC or Europe/Istanbul.`,
      );
    }
    z = { format, utc: format.resolvedOptions().timeZone === 'UTC', hourOffsets: new Map() };
    zones.set(tz, z);
  }
  return z;
}

/**
 * UTC offset (seconds) for a wall time given as seconds since 1970-01-01T00:00 of the wall clock.
 * Like Temporal, it assumes at most one transition within a day of the wall time, so the offsets a
 * day before and a day after are the only candidates (that also spans Samoa's 24-hour jump).
 */
function zoneOffset(wall: number, z: Zone): number {
  if (z.utc) return 0;
  const hourStart = Math.floor(wall / HOUR) * HOUR;
  const cached = z.hourOffsets.get(hourStart);
  if (cached !== undefined) return cached;
  const before = offsetAt(hourStart - DAY, z.format);
  const after = offsetAt(hourStart + HOUR + DAY, z.format);
  if (before === after) {
    if (z.hourOffsets.size >= MAX_CACHED_HOURS) z.hourOffsets.clear();
    z.hourOffsets.set(hourStart, before);
    return before;
  }
  // Valid with the old offset: a normal time before the transition, or the first pass through an
  // overlap (fold=0). Else valid with the new offset: after it. Else in the gap: fold=0 keeps the old one.
  if (offsetAt(wall - before, z.format) === before) return before;
  return offsetAt(wall - after, z.format) === after ? after : before;
}

/** Offset (seconds) of the zone at a UTC instant, to the second (old LMT offsets are not whole minutes). */
function offsetAt(utc: number, format: Intl.DateTimeFormat): number {
  const p: Record<string, string> = {};
  for (const { type, value } of format.formatToParts(new Date(utc * 1000))) p[type] = value;
  const year = p.era === 'BC' ? 1 - Number(p.year) : Number(p.year);
  const wall =
    daysFromCivil(year, Number(p.month), Number(p.day)) * DAY +
    Number(p.hour) * HOUR +
    Number(p.minute) * MINUTE +
    Number(p.second);
  return wall - utc;
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function fail(reason: string): TimestampResult {
  return { ok: false, reason };
}

/** The value as it appears in a reject message: quoted, control characters escaped, long ones cut. */
function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}
