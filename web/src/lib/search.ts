/** Matching image streams against the search box. */

export interface SearchEntry {
  readonly project: string;
  readonly stream: string;
  readonly tags: readonly string[];
}

/**
 * Streams whose `project/name` or a tag contains every word of the query
 * (case-insensitive); exact name matches first, then by path.
 */
export function searchStreams(entries: readonly SearchEntry[], query: string): SearchEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const hits = entries.filter((e) => {
    const hay = `${e.project}/${e.stream} ${e.tags.join(' ')}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const q = query.trim().toLowerCase();
  const rank = (e: SearchEntry): number => (e.stream.toLowerCase() === q || `${e.project}/${e.stream}` === q ? 0 : e.stream.toLowerCase().startsWith(q) ? 1 : 2);
  return hits.sort((a, b) => rank(a) - rank(b) || `${a.project}/${a.stream}`.localeCompare(`${b.project}/${b.stream}`));
}
