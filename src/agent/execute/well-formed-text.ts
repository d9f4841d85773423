/**
 * Where `value` holds text that is not well-formed Unicode (a lone UTF-16 surrogate, which JSON's `\ud800` escapes
 * can carry): the dotted path of the first such string or key, or undefined when all of it is well formed. SQLite
 * stores such text as U+FFFD, so it could never be kept exactly as it was sent. Call it on values already checked
 * for depth (it recurses).
 */
export function illFormedTextPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : path || '(the value)';
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedTextPath(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!key.isWellFormed()) return `${at.toWellFormed()} (its key)`;
    const found = illFormedTextPath(child, at);
    if (found !== undefined) return found;
  }
  return undefined;
}
