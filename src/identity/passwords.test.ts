import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BCRYPT_COST, hashPassword, InvalidPasswordError, isBcryptHash, verifyPassword } from './passwords.ts';
import { HtpasswdError, parseHtpasswd } from './htpasswd.ts';

// Made by glibc's libxcrypt (Python's crypt module), an implementation
// independent of bcryptjs: the password is `s3cret!`, cost 5.
const XCRYPT = {
  y: '$2y$05$pOZ62dnxF89rphMvFfGVlu/yz3R3XNu2f/we/0Q3Hgpq/but81Tl.',
  a: '$2a$05$pOZ62dnxF89rphMvFfGVlu/yz3R3XNu2f/we/0Q3Hgpq/but81Tl.',
  b: '$2b$05$pOZ62dnxF89rphMvFfGVlu/yz3R3XNu2f/we/0Q3Hgpq/but81Tl.',
} as const;

describe('passwords', () => {
  it('hashes with bcrypt, cost 10, the $2y$ prefix, and a fresh salt each time', async () => {
    const first = await hashPassword('correct horse');
    const second = await hashPassword('correct horse');
    assert.match(first, new RegExp(`^\\$2y\\$${BCRYPT_COST}\\$[./A-Za-z0-9]{53}$`));
    assert.notEqual(first, second);
    assert.equal(await verifyPassword('correct horse', first), true);
    assert.equal(await verifyPassword('correct hors', first), false);
    assert.equal(await verifyPassword('correct horse ', first), false);
  });

  it('verifies $2y$, $2a$ and $2b$ hashes written by another implementation', async () => {
    for (const hash of Object.values(XCRYPT)) {
      assert.equal(await verifyPassword('s3cret!', hash), true, hash);
      assert.equal(await verifyPassword('S3cret!', hash), false, hash);
    }
  });

  it('refuses empty passwords and passwords bcrypt would truncate', async () => {
    await assert.rejects(hashPassword(''), InvalidPasswordError);
    await assert.rejects(hashPassword('é'.repeat(37)), InvalidPasswordError, '74 bytes');
    assert.ok(isBcryptHash(await hashPassword('x'.repeat(72), 4)));
  });

  it('never matches without a bcrypt hash, and takes as long as a real check', async () => {
    const real = await hashPassword('pw');
    for (const missing of [undefined, null, '', 'plain', '{SHA}abc', '$apr1$x$y']) assert.equal(await verifyPassword('pw', missing), false);
    // Warm the dummy hash, then compare timings: a missing user must not answer
    // measurably faster than a wrong password for an existing one.
    await verifyPassword('pw', undefined);
    const time = async (hash: string | undefined) => {
      const start = performance.now();
      for (let i = 0; i < 3; i++) await verifyPassword('wrong', hash);
      return performance.now() - start;
    };
    const existing = await time(real);
    const absent = await time(undefined);
    assert.ok(absent > existing * 0.5, `missing user took ${absent} ms vs ${existing} ms for a real hash`);
  });
});

describe('htpasswd', () => {
  it('parses bcrypt entries, skipping comments and blank lines, CRLF or LF', () => {
    const text = `# users\r\nalice:${XCRYPT.y}\r\n\r\nbob:${XCRYPT.b}\n  \ncarol:${XCRYPT.a}`;
    assert.deepEqual(parseHtpasswd(text), [
      { user: 'alice', hash: XCRYPT.y, line: 2 },
      { user: 'bob', hash: XCRYPT.b, line: 4 },
      { user: 'carol', hash: XCRYPT.a, line: 6 },
    ]);
    assert.deepEqual(parseHtpasswd(''), []);
  });

  it('refuses other schemes, malformed lines and duplicate users, naming every line', () => {
    const text = [
      `alice:${XCRYPT.y}`,
      'bob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/',
      'carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=',
      'dave:rl0W4Cu8TyqaY',
      'eve:plaintext',
      'no-colon-here',
      `alice:${XCRYPT.b}`,
      'frank:$2y$10$short',
    ].join('\n');
    assert.throws(
      () => parseHtpasswd(text, '/etc/berth/users'),
      (error: unknown) => {
        assert.ok(error instanceof HtpasswdError);
        assert.deepEqual(
          error.problems.map((p) => p.line),
          [2, 3, 4, 5, 6, 7, 8],
        );
        assert.match(error.message, /^\/etc\/berth\/users: line 2: user bob: MD5 \(\$apr1\$\) is not supported, only bcrypt/);
        assert.match(error.message, /line 3: user carol: SHA-1/);
        assert.match(error.message, /line 4: user dave: DES crypt/);
        assert.match(error.message, /line 6: expected user:hash/);
        assert.match(error.message, /line 7: user alice already appears on line 1/);
        assert.match(error.message, /line 8: user frank: a malformed bcrypt hash/);
        return true;
      },
    );
  });
});
