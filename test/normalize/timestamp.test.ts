import { EtlError } from '../../src/errors';
import { assertTimeZone, parseTimestamp } from '../../src/normalize/timestamp';
import { runPython } from './python';

// Python's reading of a legacy timestamp: fromisoformat, naive -> ZoneInfo(tz) with fold=0, then UTC.
// None where Python refuses the value (ValueError) or cannot express it in UTC (OverflowError).
const PY_PARSE = `from datetime import datetime, timezone
from zoneinfo import ZoneInfo
def parse(s, tz):
    try:
        d = datetime.fromisoformat(s.removeprefix('{TinyDate}:'))
        if d.tzinfo is None:
            d = d.replace(tzinfo=ZoneInfo(tz))
        return d.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec='microseconds') + 'Z'
    except (ValueError, OverflowError):
        return None
`;

const EXAMPLES: [string, string][] = [
  ['2025-11-03T16:18:41.472461', 'UTC'],
  ['2025-11-03 16:18:41.472461', 'Europe/Istanbul'],
  ['2025-11-03T16:18:41.4', 'America/New_York'],
  ['2025-11-03T16:18:41.000001', 'Asia/Kolkata'],
  ['2025-11-03T16:18', 'Asia/Kolkata'],
  ['2025-11-03T16:18:41.472461Z', 'Europe/Istanbul'],
  ['2025-11-03T16:18:41+03:00', 'UTC'],
  ['2025-11-03T16:18:41+0300', 'America/New_York'],
  ['2025-11-03T16:18:41.5-05', 'Europe/Istanbul'],
  ['2025-11-03T00:10:00.25-05:30', 'UTC'],
  ['2025-11-03', 'Europe/Istanbul'],
  ['2025-11-03', 'UTC'],
  ['{TinyDate}:2000-01-01T12:00:00', 'Europe/Istanbul'],
  ['{TinyDate}:2000-01-01T12:00:00.123456', 'America/New_York'],
  ['2024-02-29T23:59:59.999999', 'Pacific/Apia'],
  ['2011-12-30T12:00:00', 'Pacific/Apia'], // the day Samoa skipped
  ['1900-01-01T00:00:00', 'Europe/Istanbul'], // mean-time offset with seconds (+01:56:56)
  ['0001-01-01T12:00:00', 'UTC'],
  ['9999-12-31T23:59:59.999999', 'UTC'],
  ['2016-03-27T03:30:00', 'Europe/Istanbul'], // gap
  ['2024-03-10T02:30:00', 'America/New_York'], // gap
  ['2024-11-03T01:30:00.5', 'America/New_York'], // overlap
  ['2024-10-27T01:30:00', 'Europe/London'], // overlap
  ['2024-03-31T01:30:00', 'Europe/London'], // gap
  ['2024-10-27T01:30:00', 'Europe/Dublin'], // negative DST in tzdata
  ['2024-04-07T01:45:00', 'Australia/Lord_Howe'], // 30-minute overlap
  ['2024-10-06T02:15:00', 'Australia/Lord_Howe'], // 30-minute gap
  ['2047-03-10T02:30:00', 'America/New_York'], // beyond the explicit transitions: the POSIX rule
];

// Python refuses these too; we must not invent a time for them.
const INVALID = [
  '2025-02-30',
  '2023-02-29T10:00:00',
  '2025-13-01',
  '2025-00-10',
  '0000-01-01',
  '2025-11-03T24:00:01',
  '2025-11-03T24:00:00',
  '2025-11-03T23:60:00',
  '2025-11-03T23:59:60',
  '2025-11-03T10:00:00+24:00',
  'yesterday',
  '2025-11-03T',
  '2025-11-03T16:18:41.',
];

describe('parseTimestamp matches Python zoneinfo', () => {
  test('examples, offsets, gaps and overlaps', () => {
    const expected = runPython<(string | null)[]>(`${PY_PARSE}out([parse(s, tz) for s, tz in data])`, EXAMPLES);
    const actual = EXAMPLES.map(([s, tz]) => {
      const r = parseTimestamp(s, tz);
      return r.ok ? r.value : null;
    });
    expect(actual.map((v, i) => [...EXAMPLES[i], v])).toEqual(EXAMPLES.map((e, i) => [...e, expected[i]]));
    expect(actual.every((v) => v !== null)).toBe(true);
  });

  test('wall times around every transition of several zones (1970s, 2010s, 2020s and POSIX-rule years)', () => {
    const zones = [
      'Europe/Istanbul',
      'America/New_York',
      'Europe/London',
      'Europe/Dublin',
      'Australia/Lord_Howe',
      'America/Sao_Paulo',
      'Pacific/Apia',
      'Pacific/Chatham',
    ];
    const cases = runPython<[string, string, string | null][]>(
      `${PY_PARSE}
from datetime import timedelta
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
def offset(tz, t):
    return int((EPOCH + timedelta(seconds=t)).astimezone(tz).utcoffset().total_seconds())
cases = []
for name in data['zones']:
    tz = ZoneInfo(name)
    for year in data['years']:
        t = int((datetime(year, 1, 1, tzinfo=timezone.utc) - EPOCH).total_seconds())
        end = t + 366 * 86400
        while t < end:
            if offset(tz, t) != offset(tz, t + 3600):
                lo, hi = t, t + 3600  # bisect to the first second with the new offset
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if offset(tz, mid) == offset(tz, t) else (lo, mid)
                before, after = offset(tz, lo), offset(tz, hi)
                for wall in sorted({hi + before + k for k in (-1, 0, 1)} | {hi + after + k for k in (-1, 0, 1)} | {hi + (before + after) // 2}):
                    local = (EPOCH + timedelta(seconds=wall)).replace(tzinfo=None, microsecond=wall % 999983)
                    s = local.isoformat(sep=' ' if wall % 2 else 'T')
                    cases.append([name, s, parse(s, name)])
            t += 3600
out(cases)`,
      { zones, years: [1978, 2011, 2016, 2019, 2024, 2025, 2047] },
    );
    expect(cases.length).toBeGreaterThan(300);
    const wrong = cases.filter(([tz, s, exp]) => {
      const r = parseTimestamp(s, tz);
      return (r.ok ? r.value : null) !== exp;
    });
    expect(wrong).toEqual([]);
  });

  test('invalid dates and times are rejected, as Python rejects them', () => {
    const expected = runPython<(string | null)[]>(`${PY_PARSE}out([parse(s, 'UTC') for s in data])`, INVALID);
    expect(expected).toEqual(INVALID.map(() => null));
    for (const s of INVALID) {
      const r = parseTimestamp(s, 'UTC');
      expect(r).toEqual({ ok: false, reason: expect.stringContaining(JSON.stringify(s)) });
    }
  });

  test('a naive time that leaves years 1-9999 once in UTC is rejected (Python raises OverflowError)', () => {
    const inputs: [string, string][] = [
      ['0001-01-01T00:30:00', 'Asia/Tokyo'],
      ['9999-12-31T23:30:00', 'America/New_York'],
    ];
    expect(runPython(`${PY_PARSE}out([parse(s, tz) for s, tz in data])`, inputs)).toEqual([null, null]);
    for (const [s, tz] of inputs) expect(parseTimestamp(s, tz)).toMatchObject({ ok: false, reason: expect.stringContaining('UTC') });
  });
});

describe('parseTimestamp', () => {
  test('keeps microseconds and always writes six fraction digits', () => {
    expect(parseTimestamp('2025-11-03T16:18:41.472461', 'UTC')).toEqual({ ok: true, value: '2025-11-03T16:18:41.472461Z' });
    expect(parseTimestamp('2025-11-03T16:18:41', 'UTC')).toEqual({ ok: true, value: '2025-11-03T16:18:41.000000Z' });
    expect(parseTimestamp('2025-11-03T16:18:41.4', 'UTC')).toEqual({ ok: true, value: '2025-11-03T16:18:41.400000Z' });
  });

  test('more than six fraction digits is refused, never rounded', () => {
    const r = parseTimestamp('2025-11-03T16:18:41.4724619', 'UTC');
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/"2025-11-03T16:18:41\.4724619".*6 fractional/) });
  });

  test.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [1700000000, 'number 1700000000'],
    [true, 'boolean true'],
    [{ $date: '2025-11-03' }, 'an object'],
    [['2025-11-03'], 'an array'],
  ])('non-string %p is rejected naming its type', (input, named) => {
    expect(parseTimestamp(input, 'UTC')).toEqual({ ok: false, reason: expect.stringContaining(named) });
  });

  test('empty strings are rejected', () => {
    expect(parseTimestamp('', 'UTC')).toMatchObject({ ok: false });
    expect(parseTimestamp('{TinyDate}:', 'UTC')).toMatchObject({ ok: false });
  });

  test('a long garbage value is cut short in the reason', () => {
    const r = parseTimestamp('x'.repeat(10_000), 'UTC');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeLessThan(200);
  });
});

describe('assertTimeZone', () => {
  test('accepts IANA names', () => {
    for (const tz of ['UTC', 'Europe/Istanbul', 'America/Argentina/Buenos_Aires', 'Etc/GMT+3']) {
      expect(() => assertTimeZone(tz)).not.toThrow();
    }
  });

  test.each(['Mars/Base', '', 'Europe/Istanbull'])('rejects %p with a USAGE error', (tz) => {
    let error: unknown;
    try {
      assertTimeZone(tz);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EtlError);
    expect(error).toMatchObject({
      code: 'USAGE',
      message: `Unknown time zone ${JSON.stringify(tz)} for --source-timezone; use an IANA name such as UTC or Europe/Istanbul.`,
    });
  });

  test('parseTimestamp refuses an unknown zone the same way', () => {
    expect(() => parseTimestamp('2025-11-03T10:00:00', 'Mars/Base')).toThrow(EtlError);
  });
});
