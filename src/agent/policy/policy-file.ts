import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * True for a name in the policies directory that dvm reads: `*.cedar`, except an editor's lock (Emacs' `.#x.cedar`,
 * a dangling link while a buffer is unsaved), which is no policy file. Other hidden names are read.
 */
export function isPolicyFileName(name: string): boolean {
  return name.endsWith('.cedar') && !name.startsWith('.#');
}

// Policy text must be UTF-8: a malformed byte would otherwise become U+FFFD, silently changing a name or a string.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The largest policy file dvm reads (a policy set of thousands of rules fits in far less). */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;

/**
 * Reads a policy file as UTF-8 text, without a leading byte order mark. It must be a regular file (a device such as
 * /dev/zero, a FIFO or a socket — also behind a link — is refused, never read or waited on) of at most
 * MAX_POLICY_FILE_BYTES, in UTF-8; throws an Error saying which otherwise, or the system error of the open.
 */
export function readPolicyFile(file: string): string {
  // O_NONBLOCK: a FIFO swapped in for the file opens at once instead of waiting for a writer.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (!stat.isFile()) throw new Error('it is not a regular file (a device, FIFO or socket)');
    if (stat.size > MAX_POLICY_FILE_BYTES)
      throw new Error(`it is larger than ${MAX_POLICY_FILE_BYTES} bytes (${stat.size})`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    let text: string;
    try {
      text = UTF8.decode(buffer.subarray(0, read));
    } catch {
      throw new Error('it is not UTF-8 text');
    }
    return text.replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}
