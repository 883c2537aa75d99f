// Image name/path patterns for the blacklist and per-image overrides: globs matched the way Windows
// compares paths (case-insensitive, '\' and '/' both separators).

/** A compiled pattern: matches the image path when the pattern has a separator, else the image name. */
export interface ImagePattern {
  readonly pattern: string;
  readonly onPath: boolean;
  readonly re: RegExp;
}

/** Normalizes a Windows path for matching: '/' -> '\'. (Case is handled by the RegExp 'i' flag.) */
export function normalizeWindowsPath(p: string): string {
  return p.indexOf('/') >= 0 ? p.replace(/\//g, '\\') : p;
}

/**
 * Compiles a glob: `*` any run of characters except a separator, `**` any run including separators,
 * `?` one character except a separator, `[abc]` / `[a-z]` / `[!a]` a class. Everything else literal.
 * @example compileImagePattern('*\\Temp\\*.exe').re.test('C:\\Users\\a\\AppData\\Local\\Temp\\x.exe') // false: * stops at '\'
 * @example compileImagePattern('**\\Temp\\*.exe').re.test('C:\\Users\\a\\AppData\\Local\\Temp\\x.exe') // true
 */
export function compileImagePattern(pattern: string): ImagePattern {
  const p = normalizeWindowsPath(pattern);
  let src = '^';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        src += '.*';
        i++;
      } else {
        src += '[^\\\\]*';
      }
    } else if (c === '?') {
      src += '[^\\\\]';
    } else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) {
        src += '\\[';
        continue;
      }
      let body = p.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      src += '[' + (negate ? '^' : '') + body.replace(/[\\\]^]/g, (m) => '\\' + m) + ']';
      i = end;
    } else {
      src += c.replace(/[.+^${}()|\\[\]]/g, (m) => '\\' + m);
    }
  }
  src += '$';
  return { pattern, onPath: p.includes('\\'), re: new RegExp(src, 'i') };
}

/** True when the pattern matches this process (name or path, see compileImagePattern). */
export function matchImage(pat: ImagePattern, imageName: string, imagePath: string): boolean {
  if (pat.onPath) return imagePath !== '' && pat.re.test(normalizeWindowsPath(imagePath));
  if (imageName !== '') return pat.re.test(imageName);
  // No name given: take the last component of the path.
  if (imagePath === '') return false;
  const np = normalizeWindowsPath(imagePath);
  return pat.re.test(np.slice(np.lastIndexOf('\\') + 1));
}
