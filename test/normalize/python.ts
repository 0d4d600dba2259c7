import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * The interpreter the expected values come from: Debian's, where `.ci/run` installs python3-bcrypt
 * and python3-cryptography (a `python3` earlier on PATH, e.g. pyenv's, lacks them); PYTHON overrides.
 */
export const PYTHON = process.env.PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/**
 * Runs a Python snippet that reads `data` (JSON from stdin) and calls `out(result)`. Both directions
 * are ASCII-only JSON (\u escapes), so locale and terminal encodings cannot alter the strings.
 */
export function runPython<T>(script: string, data: unknown = null): T {
  const prelude = 'import json, sys\ndata = json.load(sys.stdin)\ndef out(x): sys.stdout.write(json.dumps(x, ensure_ascii=True))\n';
  let stdout: string;
  try {
    stdout = execFileSync(PYTHON, ['-c', prelude + script], { input: asciiJson(data), encoding: 'utf8', maxBuffer: 256 << 20 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `"${PYTHON}" was not found. These tests compare against Python: install python3 (apt-get install python3) or set PYTHON.`,
      );
    }
    throw e;
  }
  return JSON.parse(stdout) as T;
}

function asciiJson(value: unknown): string {
  const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, escape);
}
