import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inheritedFrom, mergeUnder } from './effective.ts';

test('mergeUnder merges objects, replaces lists, and lets the upper value win', () => {
  const provenance: Record<string, string> = {};
  const merged = mergeUnder(
    { languageVersion: '1.24', nvim: { theme: 'gruvbox' }, tags: ['a'] },
    {
      language: 'go',
      languageVersion: '1.23',
      nvim: { theme: 'tokyonight', plugins: ['x', 'y'] },
      tags: ['b', 'c'],
    },
    'Template/go',
    provenance,
  );
  assert.deepEqual(merged, {
    language: 'go',
    languageVersion: '1.24',
    nvim: { theme: 'gruvbox', plugins: ['x', 'y'] },
    tags: ['a'],
  });
  assert.deepEqual(provenance, { 'spec.language': 'Template/go', 'spec.nvim.plugins': 'Template/go' });
});

test('mergeUnder layers: the first layer merged wins over later ones', () => {
  const provenance: Record<string, string> = {};
  let spec = mergeUnder({ path: '/src' }, { language: 'go' }, 'Template/t', provenance);
  spec = mergeUnder(spec, { language: 'python', languageVersion: '3.12' }, 'Domain/d', provenance);
  assert.deepEqual(spec, { path: '/src', language: 'go', languageVersion: '3.12' });
  assert.equal(inheritedFrom(provenance, 'spec.language'), 'Template/t');
  assert.equal(inheritedFrom(provenance, 'spec.languageVersion'), 'Domain/d');
  assert.equal(inheritedFrom(provenance, 'spec.path'), undefined);
});

test('mergeUnder does not alias the lower object', () => {
  const lower = { nvim: { plugins: ['x'] } };
  const merged = mergeUnder({}, lower, 'T', {}) as { nvim: { plugins: string[] } };
  merged.nvim.plugins.push('y');
  assert.deepEqual(lower.nvim.plugins, ['x']);
});
