import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OTHER_STREAM_LINES } from '../model/secret-lines.ts';
import { artifactOf, jsonArtifactOf, TailArtifact } from './artifact.ts';
import { LineAssembler, maxLineCharsFor } from './line-assembler.ts';

// A secret no redaction pattern finds without its key: only `password=` in front of it marks it.
const SECRET = 'hunter2-secret-value';

// A deterministic pseudo-random source for the property tests.
function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

test('artifactOf keeps short output whole with its byte count', () => {
  const a = artifactOf('héllo', 100);
  assert.deepEqual(a, {
    contentType: 'text/plain; charset=utf-8',
    content: 'héllo',
    bytes: 6,
    totalBytes: 6,
    truncated: false,
  });
});

test('artifactOf tail cut never starts inside a line: the partial first line is left out whole', () => {
  const text = `first\npassword=${SECRET}\nlast line\n`;
  // The last 38 bytes start inside `password`: a cut there kept `ssword=hunter2-…`, which no pattern recognises.
  const a = artifactOf(text, 38);
  assert.deepEqual(a, {
    contentType: 'text/plain; charset=utf-8',
    content: 'last line\n',
    bytes: 10,
    totalBytes: text.length,
    truncated: true,
  });
  // A window that starts a line keeps that line.
  const exact = artifactOf(text, `password=${SECRET}\nlast line\n`.length);
  assert.equal(exact.content, `password=${SECRET}\nlast line\n`);
  assert.equal(exact.bytes, exact.content.length);
  // A last line without a newline is whole too (the output ended there).
  assert.equal(artifactOf('aaaa\nbbbb\ncc', 6).content, 'cc');
  assert.equal(artifactOf('aaaa\nbbbb\ncc', 7).content, 'bbbb\ncc');
});

test('artifactOf keep: head never ends inside a line: the partial last line is left out whole', () => {
  const text = `first\npassword=${SECRET}\nlast line\n`;
  // The first 10 bytes end at `pass`: a partial key shows nothing; the first 20 end inside the value, which was kept.
  for (const max of [10, 20, 29]) {
    const a = artifactOf(text, max, { keep: 'head' });
    assert.deepEqual(
      [a.content, a.bytes, a.totalBytes, a.truncated],
      ['first\n', 6, text.length, true],
      `max ${max}`,
    );
  }
  assert.equal(artifactOf(text, 36, { keep: 'head' }).content, `first\npassword=${SECRET}\n`);
});

test('artifactOf leaves out a line longer than the cap whole and says how long it was, even when nothing is left', () => {
  const long = `token: ${'x'.repeat(60)}`;
  const tail = artifactOf(`ok\n${long}\n`, 50);
  assert.deepEqual(tail, {
    contentType: 'text/plain; charset=utf-8',
    content: '',
    bytes: 0,
    totalBytes: 3 + long.length + 1,
    truncated: true,
    oversizeBytes: long.length + 1,
  });
  // Without its newline (the output ended in it) it is left out the same.
  assert.deepEqual(
    [artifactOf(`ok\n${long}`, 50).content, artifactOf(`ok\n${long}`, 50).oversizeBytes],
    ['', 67],
  );
  const head = artifactOf(`${long}\nok\n`, 50, { keep: 'head' });
  assert.deepEqual([head.content, head.bytes, head.truncated, head.oversizeBytes], ['', 0, true, 68]);
  // A line left out because the budget ran out, not by being over the cap, is not oversize.
  assert.equal(artifactOf(`${'y'.repeat(30)}\n${'z'.repeat(30)}\n`, 50).oversizeBytes, undefined);
  // Before kept lines too: the line at the cut is the long one.
  assert.equal(artifactOf(`${long}\nshort\n`, 50).content, 'short\n');
  assert.equal(artifactOf(`${long}\nshort\n`, 50).oversizeBytes, 68);
});

test('artifactOf cuts multibyte text at whole lines, so never inside a character', () => {
  const text = 'größe\n€€€\n😀 ok\n';
  // Bytes: 'größe\n' 8, '€€€\n' 10, '😀 ok\n' 8. The last 12 start inside the second €.
  const tail = artifactOf(text, 12);
  assert.deepEqual([tail.content, tail.bytes, tail.totalBytes], ['😀 ok\n', 8, 26]);
  // The first 12 end inside the first €.
  const head = artifactOf(text, 12, { keep: 'head' });
  assert.deepEqual([head.content, head.bytes], ['größe\n', 8]);
  const bytes = artifactOf(Buffer.from(text), 18);
  assert.deepEqual([bytes.content, bytes.bytes], ['€€€\n😀 ok\n', 18]);
});

test('artifactOf: every cut of random output keeps whole lines that fit, as many as fit, and never half a secret', () => {
  const random = seeded(11);
  for (let round = 0; round < 300; round++) {
    const lines = Array.from({ length: 1 + Math.floor(random() * 12) }, (_, i) =>
      i % 3 === 1 ? `password=${SECRET}` : 'xé€😀'.repeat(Math.floor(random() * 8)),
    );
    const text = `${lines.join('\n')}\n`;
    const max = Math.floor(random() * 120);
    for (const keep of ['head', 'tail'] as const) {
      const a = artifactOf(text, max, { keep });
      const at = `round ${round} ${keep} max ${max}`;
      assert.ok(a.bytes <= Math.max(max, 0) || !a.truncated, at);
      assert.equal(Buffer.byteLength(a.content), a.bytes, at);
      assert.equal(a.truncated, Buffer.byteLength(text) > max, at);
      // Whole lines: the content is a run of the text's lines, at its start (head) or end (tail).
      const left =
        keep === 'head' ? text.slice(a.content.length) : text.slice(0, text.length - a.content.length);
      if (keep === 'head')
        assert.ok(text.startsWith(a.content) && (a.content === '' || a.content.endsWith('\n')), at);
      else assert.ok(text.endsWith(a.content) && (left === '' || left.endsWith('\n')), at);
      // As many as fit: the line at the cut, with its newline, would not.
      if (a.truncated) {
        const next = keep === 'head' ? left.split('\n')[0] : (left.slice(0, -1).split('\n').at(-1) ?? '');
        assert.ok(a.bytes + Buffer.byteLength(next) + 1 > max, `${at}: ${JSON.stringify(next)} would fit`);
        const over = Buffer.byteLength(next) + 1 > max;
        assert.equal(a.oversizeBytes, over ? Buffer.byteLength(next) + 1 : undefined, at);
      }
      for (const piece of [SECRET.slice(3), SECRET.slice(0, -3)]) {
        const shown = a.content.includes(piece);
        assert.ok(!shown || a.content.includes(`password=${SECRET}`), `${at}: part of a secret kept`);
      }
    }
  }
});

test('TailArtifact gives what artifactOf gives for the whole output, keeping only its budget', () => {
  const random = seeded(7);
  for (const max of [1, 10, 64, 1000, 100_000]) {
    const tail = new TailArtifact(max);
    let whole = '';
    for (let i = 0; i < 2000; i++) {
      // Now and then a line longer than the smaller budgets, pushed whole.
      const line = `${'xé€😀'.repeat(Math.floor(random() * (i % 97 === 5 ? 400 : 20)))}${i}`;
      tail.push(line);
      whole += `${line}\n`;
    }
    assert.deepEqual(tail.artifact(), artifactOf(whole, max), `max ${max}`);
  }
  const small = new TailArtifact(10);
  for (let i = 0; i < 10; i++) small.push('short');
  assert.deepEqual(small.artifact(), artifactOf('short\n'.repeat(10), 10));
  assert.equal(small.artifact().content, 'short\n');
});

test('TailArtifact leaves a line that came in pieces out whole, with the lines before it, as artifactOf of the whole output', () => {
  const cap = 64;
  // Lines from two streams, tagged as docker.logs tags them; the assembler cuts a line longer than the cap in pieces.
  const tail = new TailArtifact(cap);
  const lines = new LineAssembler<'O ' | 'E '>(
    (tag, line, part) => tail.push(line, part, tag),
    maxLineCharsFor(cap),
  );
  const long = `${'x'.repeat(60)}password=${SECRET}${'y'.repeat(80)}`;
  lines.write('O ', 'before\n');
  lines.write('O ', long.slice(0, 50));
  lines.write('E ', 'err while the long line comes\n');
  lines.write('O ', `${long.slice(50)}\nafter\n`);
  lines.flush();
  // The long line counts where it ended, after the stderr line.
  const whole = `O before\nE err while the long line comes\nO ${long}\nO after\n`;
  const artifact = tail.artifact('text/x-test');
  assert.deepEqual(artifact, artifactOf(whole, cap, { contentType: 'text/x-test' }));
  assert.deepEqual(artifact, {
    contentType: 'text/x-test',
    content: 'O after\n',
    bytes: 8,
    totalBytes: Buffer.byteLength(whole),
    truncated: true,
    oversizeBytes: long.length + 3,
  });
  assert.ok(!artifact.content.includes(SECRET.slice(4)), 'no piece of the secret is kept');
  // The long line last: nothing is left, and the artifact says why.
  const last = new TailArtifact(cap);
  const assembler = new LineAssembler<'out'>((_s, line, part) => last.push(line, part), maxLineCharsFor(cap));
  assembler.write('out', `ok\n${long}`);
  assembler.flush();
  assert.deepEqual(last.artifact(), artifactOf(`ok\n${long}\n`, cap));
  assert.deepEqual([last.artifact().content, last.artifact().oversizeBytes], ['', long.length + 1]);
});

test('TailArtifact fed by a LineAssembler matches artifactOf for random output with lines in pieces', () => {
  const random = seeded(3);
  for (const cap of [8, 50, 300]) {
    const tail = new TailArtifact(cap);
    let whole = '';
    const lines = new LineAssembler<'out'>((_s, line, part) => tail.push(line, part), maxLineCharsFor(cap));
    for (let i = 0; i < 500; i++) {
      const line = `${'ab€😀'.repeat(Math.floor(random() * (random() < 0.1 ? 200 : 10)))}${i}`;
      whole += `${line}\n`;
      // Written in chunks of random sizes, as a socket delivers them.
      const text = `${line}\n`;
      for (let at = 0; at < text.length; ) {
        const size = 1 + Math.floor(random() * 40);
        lines.write('out', text.slice(at, at + size));
        at += size;
      }
    }
    lines.flush();
    assert.deepEqual(tail.artifact(), artifactOf(whole, cap), `cap ${cap}`);
  }
});

test('jsonArtifactOf keeps whole items that fit, so that a capped artifact always parses', () => {
  const items = Array.from({ length: 40 }, (_, i) => ({
    name: `event-${i}`,
    message: i === 7 ? `password=${SECRET}` : 'é'.repeat(i % 9),
    count: i,
  }));
  const whole = JSON.stringify(items, null, 2);
  assert.deepEqual(jsonArtifactOf(items, 1 << 20), {
    contentType: 'application/json',
    content: whole,
    bytes: Buffer.byteLength(whole),
    totalBytes: Buffer.byteLength(whole),
    truncated: false,
  });
  for (let max = 0; max < Buffer.byteLength(whole); max += 7) {
    for (const keep of ['head', 'tail'] as const) {
      const a = jsonArtifactOf(items, max, { keep });
      const kept = JSON.parse(a.content) as typeof items;
      const at = `${keep} max ${max}`;
      assert.equal(a.truncated, true, at);
      assert.equal(a.totalBytes, Buffer.byteLength(whole), at);
      assert.equal(a.bytes, Buffer.byteLength(a.content), at);
      assert.ok(a.bytes <= Math.max(max, 2), at);
      assert.deepEqual(
        kept,
        keep === 'head' ? items.slice(0, kept.length) : items.slice(items.length - kept.length),
        at,
      );
      // As many as fit: one more would not.
      const more =
        keep === 'head' ? items.slice(0, kept.length + 1) : items.slice(items.length - kept.length - 1);
      assert.ok(Buffer.byteLength(JSON.stringify(more, null, 2)) > max, `${at}: one more item fits`);
    }
  }
  // An object's entries the same; an item alone over the cap is said.
  const object = { host: 'web-1', note: 'n'.repeat(100), pid: 42 };
  const head = jsonArtifactOf(object, 40, { keep: 'head' });
  assert.deepEqual(JSON.parse(head.content), { host: 'web-1' });
  assert.equal(head.oversizeBytes, Buffer.byteLength(`  "note": "${'n'.repeat(100)}"`));
  assert.deepEqual(JSON.parse(jsonArtifactOf(object, 40).content), { pid: 42 });
  const none = jsonArtifactOf([{ big: 'b'.repeat(100) }], 40);
  assert.deepEqual([none.content, none.bytes, none.truncated], ['[]', 2, true]);
  assert.ok((none.oversizeBytes ?? 0) > 100);
});

// Cuts `dump` at every cap with artifactOf and TailArtifact: they agree, stay within the cap, and show `secret` only
// with its key above it (`withKey`), where redaction sees both.
function assertSecretOnlyWithKey(dump: string, secret: string, withKey: RegExp): void {
  for (let cap = 1; cap < Buffer.byteLength(dump); cap++) {
    const cut = artifactOf(dump, cap);
    const tail = new TailArtifact(cap);
    for (const line of dump.slice(0, -1).split('\n')) tail.push(line);
    for (const artifact of [cut, tail.artifact()]) {
      if (artifact.content.includes(secret)) assert.match(artifact.content, withKey, `cap ${cap}`);
      assert.ok(artifact.bytes <= cap, `cap ${cap}`);
    }
    assert.deepEqual(tail.artifact(), cut, `cap ${cap}: TailArtifact and artifactOf agree`);
  }
}

test('a tail cut between a secret-named key and its value on the next line (YAML) leaves the value out with the key', () => {
  const dump = 'config dump:\ndb:\n  password:\n    hunter2secret\n  host: db\nport: 5432\n';
  assertSecretOnlyWithKey(dump, 'hunter2secret', /password:\n {4}hunter2secret/);
  assert.equal(artifactOf(dump, 27).content, '  host: db\nport: 5432\n');
});

test('TailArtifact: a line over the cap that arrives in pieces and ends with a secret-named key leaves the value below it out', () => {
  const tail = new TailArtifact(64);
  tail.push('x'.repeat(100), 'first');
  tail.push('x'.repeat(100), 'middle');
  tail.push('db_pass', 'middle');
  tail.push('word:', 'last');
  tail.push('    SECRETVALUE');
  tail.push('ready');
  const artifact = tail.artifact();
  assert.equal(artifact.content, 'ready\n');
  assert.equal(artifact.oversizeBytes, 213);
});

test('a cut inside the YAML block of a secret-named key (secret: |) leaves the rest of the block out, as TailArtifact does', () => {
  const dump = 'a: 1\nsecret: |\n  s1-hidden\n  s2-hidden\n  s3-hidden\nb: 2\n';
  assertSecretOnlyWithKey(dump, '-hidden', /secret: \|\n/);
  assert.equal(artifactOf(dump, 20).content, 'b: 2\n');
});

test('TailArtifact reads a long first line once while a secret block stays open above it: pushes cost no more than without one', () => {
  const fill = (opening: string) => {
    const tail = new TailArtifact(1024 * 1024);
    const started = performance.now();
    tail.push(opening);
    tail.push(`${' '.repeat(400_000)}x`);
    for (let i = 0; i < 20_000; i++) tail.push('y');
    return performance.now() - started;
  };
  const plain = Math.min(fill('note: |'), fill('note: |'));
  const open = Math.min(fill('secret: |'), fill('secret: |'));
  assert.ok(open < plain * 5 + 50, `with a block open ${open.toFixed(1)} ms, without ${plain.toFixed(1)} ms`);
});

test('a cut after a secret-named key and a blank line leaves the value below the blank line out', () => {
  assertSecretOnlyWithKey(
    'db:\n  password:\n\n    hunter2\nnext: 1\n',
    'hunter2',
    /password:\n\n {4}hunter2/,
  );
});

// artifactOf with the first line as context, and TailArtifact told to leave its first line out, for `dump` at `cap`.
function withContext(dump: string, cap: number) {
  const tail = new TailArtifact(cap);
  for (const line of dump.slice(0, -1).split('\n')) tail.push(line);
  tail.leaveOutFirstLines(1);
  return { cut: artifactOf(dump, cap, { leadingContext: 1 }), tail: tail.artifact() };
}

test('a tail asked for a line more (leadingContext, leaveOutFirstLines): that line is not output or counted, and the value below a secret-named key in it is left out, at every cap', () => {
  const dump = 'password:\n  hunter2secret\nport: 5432\n';
  const { cut, tail } = withContext(dump, 1024);
  assert.deepEqual(cut, {
    contentType: 'text/plain; charset=utf-8',
    content: 'port: 5432\n',
    bytes: 11,
    totalBytes: 27,
    truncated: true,
  });
  assert.deepEqual(tail, cut);
  for (let cap = 0; cap < 40; cap++) {
    const both = withContext(dump, cap);
    assert.deepEqual(both.tail, both.cut, `cap ${cap}`);
    assert.ok(!both.cut.content.includes('hunter2'), `cap ${cap}`);
  }
  // A block below the key (its lines up to the next key), and a first line that opens nothing.
  assert.equal(withContext('token: |\n  s1\n  s2\nnext: 1\n', 100).cut.content, 'next: 1\n');
  const plain = withContext('older\nline 1\nline 2\n', 100);
  assert.deepEqual(plain.cut, {
    contentType: 'text/plain; charset=utf-8',
    content: 'line 1\nline 2\n',
    bytes: 14,
    totalBytes: 14,
    truncated: false,
  });
  assert.deepEqual(plain.tail, plain.cut);
  // Stream-tagged lines: the tag is read past, as at a cut.
  // Stream-tagged lines: the tag is read past, as at a cut; the other stream's lines while the value is pending are
  // left out with it (at most OTHER_STREAM_LINES), so that the tail stays one unbroken end of the output.
  for (const [dump, content] of [
    ['E password:\nE   hunter2secret\nE done\nO ok\n', 'E done\nO ok\n'],
    ['E password:\nO a\nE   hunter2secret\nE done\n', 'E done\n'],
  ]) {
    const tagged = withContext(dump, 100);
    assert.equal(tagged.cut.content, content, dump);
    assert.deepEqual(tagged.tail, tagged.cut);
  }
  const flood = `E password:\n${'O a\n'.repeat(OTHER_STREAM_LINES + 1)}E   hunter2secret\n`;
  assert.equal(
    withContext(flood, 1000).cut.content,
    `O a\nE   hunter2secret\n`,
    'past the bound, the wait ends',
  );
});

test('a line over the cap inside a secret block (whole, or in pieces) keeps the block open: the block lines after it are left out, as artifactOf leaves them', () => {
  const long = `  ${'s'.repeat(100)}`;
  const dump = `secret: |\n  s1-hidden\n${long}\n  s2-hidden\nnext: 1\n`;
  const cut = artifactOf(dump, 64);
  assert.equal(cut.content, 'next: 1\n');
  assert.equal(cut.oversizeBytes, Buffer.byteLength(long) + 1);
  const whole = new TailArtifact(64);
  for (const line of dump.slice(0, -1).split('\n')) whole.push(line);
  assert.deepEqual(whole.artifact(), cut);
  // The long line handed on in pieces (LineAssembler past its longest line).
  const pieces = new TailArtifact(64);
  const lines = new LineAssembler<'o'>((_stream, line, part) => pieces.push(line, part), 40);
  lines.write('o', dump);
  lines.flush();
  assert.deepEqual(pieces.artifact(), cut);
});

test('artifactOf and TailArtifact (lines whole or in pieces, with or without a context line) agree on random output with secrets, at every kind of cap', () => {
  const random = seeded(4);
  const shapes = [
    'password:',
    '  hunter2secret',
    'token: |',
    '    blockline',
    '',
    'plain line',
    'x'.repeat(50),
    `  ${'y'.repeat(40)}`,
    'db_password: !vault |',
    '  # comment',
    'key: value',
    // Lines of a stream-tagged log: the other stream's lines wait with a pending value.
    'E password:',
    'O other stream',
    'E   tagged-secret',
    'O token: |',
  ];
  for (let round = 0; round < 5000; round++) {
    const lines = Array.from(
      { length: 1 + Math.floor(random() * 10) },
      () => shapes[Math.floor(random() * shapes.length)],
    );
    const dump = `${lines.join('\n')}\n`;
    const cap = Math.floor(random() * 80);
    // Up to 3 lines of context, at times more than the lines there are.
    const leadingContext = random() < 0.5 ? 0 : 1 + Math.floor(random() * 3);
    const cut = artifactOf(dump, cap, { leadingContext });
    const whole = new TailArtifact(cap);
    for (const line of lines) whole.push(line);
    const pieces = new TailArtifact(cap);
    const assembler = new LineAssembler<'o'>(
      (_stream, line, part) => pieces.push(line, part),
      Math.max(1, cap + 1),
    );
    assembler.write('o', dump);
    assembler.flush();
    const context = Buffer.byteLength(
      lines
        .slice(0, leadingContext)
        .map((l) => `${l}\n`)
        .join(''),
    );
    assert.equal(cut.totalBytes, Buffer.byteLength(dump) - context, 'the context line is not output');
    assert.ok(cut.bytes <= cap);
    for (const tail of [whole, pieces]) {
      tail.leaveOutFirstLines(leadingContext);
      assert.deepEqual(tail.artifact(), cut, JSON.stringify({ dump, cap, leadingContext }));
    }
  }
});

test('several lines of context: a block whose key is lines above the tail is left out to its end; context is for tails only', () => {
  const dump = 'token: |\n  SECRET-1\n  SECRET-2\nafter\n';
  const cut = artifactOf(dump, 1024, { leadingContext: 2 });
  assert.deepEqual([cut.content, cut.totalBytes, cut.truncated], ['after\n', 17, true]);
  const tail = new TailArtifact(1024);
  for (const line of dump.slice(0, -1).split('\n')) tail.push(line);
  tail.leaveOutFirstLines(2);
  assert.deepEqual(tail.artifact(), cut);
  // A block opened among the context lines that runs on for more than 64 KiB: followed all the way.
  const big = [
    'private_key: |',
    ...Array.from({ length: 22 }, (_, i) => `  S${i}${'a'.repeat(4096)}`),
    'after',
  ];
  const bigCut = artifactOf(`${big.join('\n')}\n`, 1 << 20, { leadingContext: 20 });
  const bigTail = new TailArtifact(1 << 20);
  for (const line of big) bigTail.push(line);
  bigTail.leaveOutFirstLines(20);
  assert.equal(bigCut.content, 'after\n');
  assert.deepEqual(bigTail.artifact(), bigCut);
  // More context than lines: nothing is output.
  assert.equal(artifactOf('a\nb\n', 10, { leadingContext: 5 }).content, '');
  assert.throws(() => artifactOf(dump, 10, { leadingContext: 1, keep: 'head' }), /not a head/);
});

test('two streams with a secret open at once above a cut: each stream follows its own, and each waits through the other', () => {
  const dump = 'O password:\nE token: |\nO hunter2a\nE   hunter2b\nE done\nO after\n';
  const cut = artifactOf(dump, 1000, { leadingContext: 2 });
  assert.equal(cut.content, 'E done\nO after\n');
  const tail = new TailArtifact(1000);
  for (const line of dump.slice(0, -1).split('\n')) tail.push(line);
  tail.leaveOutFirstLines(2);
  assert.deepEqual(tail.artifact(), cut);
  // The same at a cap that cuts after the two keys.
  assert.equal(artifactOf(dump, 33).content, 'E done\nO after\n');
});
