/** Formatting shared by every page: sizes, dates, digests. Framework-free (tested under node:test). */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'] as const;

/**
 * A byte count as people read it, in SI units as container tools print them
 * (`podman images`, Docker Hub): 999 B, 1.5 kB… here "KB" for legibility.
 * Below 10 of a unit one decimal is kept (1.5 MB), above it none (12 MB).
 * Negative, NaN or missing sizes print as an em dash.
 */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  // 999.95 kB would round to "1000 KB": move to the next unit instead.
  if (Number(value.toFixed(value < 10 ? 1 : 0)) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${UNITS[unit]}`;
}

/** The exact byte count with thousands separators, for titles and tooltips. */
export function formatBytesExact(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** `sha256:0123456789ab…` shortened to the 12 hex digits tools show. */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return '—';
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) as [string, string] : ['', digest];
  return hex.length > 12 ? `${algorithm ? `${algorithm}:` : ''}${hex.slice(0, 12)}` : digest;
}

/** An RFC 3339 timestamp as a UTC date and time (`2026-05-01 12:03 UTC`), or an em dash. */
export function formatTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "3 minutes ago", relative to `now`; falls back to the date past 30 days. */
export function formatAge(value: string | null | undefined, now: number = Date.now()): string {
  if (!value) return '—';
  const then = new Date(value).getTime();
  if (Number.isNaN(then)) return value;
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 0) return formatTime(value);
  if (seconds < 60) return 'just now';
  const steps: Array<[number, string]> = [[60, 'minute'], [3600, 'hour'], [86400, 'day']];
  for (let i = steps.length - 1; i >= 0; i--) {
    const [size, name] = steps[i]!;
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      if (name === 'day' && n > 30) return formatTime(value);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  }
  return formatTime(value);
}
