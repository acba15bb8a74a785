/** Platforms of a multi-arch image: labels, the default choice, and which child a choice names. */
import type { ImageManifestRef } from '../api/types.ts';

/** `os/architecture[/variant]`, as podman's `--platform` writes it. */
export function platformLabel(p: { os?: string | undefined; architecture?: string | undefined; variant?: string | undefined }): string {
  return [p.os || 'unknown', p.architecture || 'unknown', ...(p.variant ? [p.variant] : [])].join('/');
}

/**
 * The platforms a selector offers: real platforms only (attestation
 * manifests carry `unknown/unknown` and are not images one runs), in
 * the index's order.
 */
export function selectablePlatforms(manifests: readonly ImageManifestRef[] | undefined): ImageManifestRef[] {
  return (manifests ?? []).filter((m) => m.os && m.os !== 'unknown' && m.architecture && m.architecture !== 'unknown');
}

/**
 * Which child a page shows: the one the URL names (`?platform=linux/arm64`)
 * when the index has it, else linux/amd64, else the first. Undefined for a
 * single-platform image (no manifests).
 */
export function choosePlatform(manifests: readonly ImageManifestRef[] | undefined, requested: string | null | undefined, preferred = 'linux/amd64'): ImageManifestRef | undefined {
  const options = selectablePlatforms(manifests);
  if (options.length === 0) return undefined;
  const byLabel = (label: string): ImageManifestRef | undefined => options.find((m) => platformLabel(m) === label);
  return (requested ? byLabel(requested) : undefined) ?? byLabel(preferred) ?? options[0];
}
