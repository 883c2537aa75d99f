// Human output helpers: aligned tables and colour that appears only on a terminal.
import type { CliIo } from './io.js';

/** Aligned columns; numbers (and cells starting with a digit) are right-aligned. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_h, i) => cells.length > 0 && cells.every((r) => /^-?[\d.,]+( ?[a-zµ%/]+)?$/i.test(r[i] ?? '') || (r[i] ?? '') === ''));
  const line = (r: readonly string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** ANSI colour when stdout is a TTY (and NO_COLOR is unset); plain text otherwise. */
export function colours(io: CliIo): { red(s: string): string; yellow(s: string): string; green(s: string): string; dim(s: string): string; bold(s: string): string } {
  const on = io.isTty && !process.env.NO_COLOR;
  const c = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: c(31), yellow: c(33), green: c(32), dim: c(2), bold: c(1) };
}

/** 12,345 style integers. */
export function num(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2);
}
