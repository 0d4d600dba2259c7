import bcrypt from 'bcrypt';
import { BcryptPool } from '../../src/secrets/bcrypt-pool';

describe('bcrypt on worker threads', () => {
  test('more passwords than threads: each hash verifies, the event loop keeps running, a closed pool starts again', async () => {
    const pool = new BcryptPool(2);
    const passwords = ['one', 'two', 'three', 'four', 'fünf', ''];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const hashes = await Promise.all(passwords.map((p) => pool.hash(p, 8)));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    for (const [i, p] of passwords.entries()) {
      expect(hashes[i]).toMatch(/^\$2b\$08\$/);
      expect(await bcrypt.compare(p, hashes[i])).toBe(true);
      expect(await bcrypt.compare(p + 'x', hashes[i])).toBe(false);
    }
    // two hashing, one queued: all three fail
    const pending = Promise.allSettled([pool.hash('a', 12), pool.hash('b', 12), pool.hash('c', 12)]);
    await pool.close();
    expect((await pending).map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual(Array(3).fill('the bcrypt pool was closed'));
    expect(await bcrypt.compare('again', await pool.hash('again', 4))).toBe(true);
    await pool.close();
  });
});
