import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readJsonFile, startsWithJsonArray } from '../../src/scan/json-file';

/** The shared reader on its own: what it accepts, what it refuses and how it says so. */
describe('readJsonFile', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-json-file-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const write = (content: string | Buffer): string => {
    const file = path.join(dir, `f${n++}.json`);
    fs.writeFileSync(file, content);
    return file;
  };
  const refusal = async (content: string | Buffer): Promise<{ code: string; message: string }> => {
    const file = write(content);
    try {
      await readJsonFile(file, 'test file');
    } catch (e) {
      const err = e as { code: string; message: string };
      return { code: err.code, message: err.message.replace(file, '<file>') };
    }
    throw new Error('not refused');
  };

  test('returns the value, the sha256 and the size of the bytes read; a BOM is skipped', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a": "é", "b": {"a": 1}}, {"a": 2}]')]);
    const file = write(bytes);
    expect(await readJsonFile(file, 'test file')).toEqual({
      value: [{ a: 'é', b: { a: 1 } }, { a: 2 }],
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
    });
    expect((await readJsonFile(write(''), 'test file')).value).toBeUndefined();
  });

  test('the same key in different objects, or in an object and its parent, is fine', async () => {
    const text = '{"a": {"a": [{"a": 1}, {"a": "a"}]}, "b": "\\\\", "c": ["\\"a\\"", {"b": 1}]}';
    expect((await readJsonFile(write(text), 'test file')).value).toEqual(JSON.parse(text));
  });

  test('a duplicate key is refused with line and column (counted in characters)', async () => {
    expect(await refusal('{\n  "😀": 1,\n  "x": "😀", "😀": 2\n}')).toEqual({
      code: 'SOURCE_CORRUPT',
      message:
        '<file> has the key "😀" twice in one object, at line 3, column 13 (first at line 2, column 3); JSON.parse would silently keep only the last value, so remove or rename one in the test file and run again, nothing was written.',
    });
  });

  test('invalid UTF-8 and invalid JSON are SOURCE_CORRUPT', async () => {
    expect(await refusal(Buffer.from([0x5b, 0x22, 0xe2, 0x82, 0x22, 0x5d]))).toEqual({
      code: 'SOURCE_CORRUPT',
      message: '<file> is not valid UTF-8 at byte 2; convert the test file to UTF-8 (e.g. iconv -f cp1252 -t utf-8) and run again, nothing was written.',
    });
    expect(await refusal('[1, 2')).toMatchObject({ code: 'SOURCE_CORRUPT', message: expect.stringMatching(/^<file> is not valid UTF-8 JSON \(.+\); fix the test file and run again, nothing was written\.$/) });
    // one line even when JSON.parse quotes a multi-line part of the text; a position becomes a line and column
    expect((await refusal('[1,\n x\n, 3]')).message).not.toContain('\n');
    expect((await refusal('{"a":\n\n1,,}')).message).toMatch(/^<file> is not valid UTF-8 JSON \(.* at line 3, column 3\); /);
  });

  test('startsWithJsonArray looks only at the first token', async () => {
    expect(await startsWithJsonArray(write('\ufeff \n [1'))).toBe(true);
    expect(await startsWithJsonArray(write(Buffer.concat([Buffer.from('{"_default": {}'), Buffer.from([0xff])])))).toBe(false);
    expect(await startsWithJsonArray(write(''))).toBe(false);
    expect(await startsWithJsonArray(write(' '.repeat(10000) + '[]'))).toBe(true);
  });
});
