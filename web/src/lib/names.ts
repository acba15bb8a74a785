/** Client-side checks of names, mirroring docs/api.md so forms can say what is wrong before the server does. */

/** Project and service-account names: DNS-1123 labels. Returns the problem in words, or undefined when valid. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'A name is required.';
  if (name.length > 63) return 'At most 63 characters.';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    return 'Lowercase letters, digits and "-" only, starting and ending with a letter or digit.';
  }
  return undefined;
}

/** User and group names (virtual `system:` groups are allowed for bindings). */
export function subjectNameProblem(kind: 'User' | 'Group' | 'ServiceAccount', name: string): string | undefined {
  if (name.length === 0) return 'A name is required.';
  if (kind === 'ServiceAccount') {
    const local = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
    return dns1123LabelProblem(local);
  }
  if (kind === 'Group' && (name === 'system:authenticated' || name === 'system:unauthenticated')) return undefined;
  if (name.length > 253) return 'At most 253 characters.';
  if (!/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/.test(name)) {
    return 'Letters, digits and "._@+-" only, starting with a letter or digit.';
  }
  return undefined;
}
