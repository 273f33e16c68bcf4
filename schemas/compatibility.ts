/**
 * Backward compatibility of contract versions: the newest version must read data written by every
 * older one (Confluent's BACKWARD_TRANSITIVE). Transitive because a reader in plain mode resolves any
 * older version it knows, and old records stay in topics until retention removes them.
 *
 * avsc's `createResolver(writer)` is the judge: it throws when a reader cannot read a writer (a new
 * field without a default, a changed type that is not a promotion, a renamed record without alias...).
 */
import type { ContractVersions } from './catalog.js';

export interface CompatibilityResult {
  readonly folder: string;
  readonly name: string;
  readonly newest: number;
  /** Older versions the newest can read. */
  readonly compatible: readonly number[];
  /** Older versions the newest cannot read, with avsc's reason. */
  readonly incompatible: readonly { readonly version: number; readonly reason: string }[];
}

export function checkBackwardCompatibility(contracts: readonly ContractVersions[]): CompatibilityResult[] {
  return contracts.map((contract) => {
    const newest = contract.versions[contract.versions.length - 1]!;
    const compatible: number[] = [];
    const incompatible: { version: number; reason: string }[] = [];
    for (const older of contract.versions.slice(0, -1)) {
      try {
        newest.type.createResolver(older.type);
        compatible.push(older.version);
      } catch (err) {
        incompatible.push({ version: older.version, reason: (err as Error).message });
      }
    }
    return { folder: contract.folder, name: contract.name, newest: newest.version, compatible, incompatible };
  });
}

/** One line per contract, e.g. `mention (dev.signalpath.Mention): v2 reads v1 — ok`. */
export function describeResult(result: CompatibilityResult): string {
  const label = `${result.folder} (${result.name})`;
  if (result.compatible.length === 0 && result.incompatible.length === 0) {
    return `${label}: v${result.newest} only — nothing to check`;
  }
  const lines = [];
  if (result.compatible.length > 0) {
    lines.push(`${label}: v${result.newest} reads ${result.compatible.map((v) => `v${v}`).join(', ')} — ok`);
  }
  for (const { version, reason } of result.incompatible) {
    lines.push(`${label}: v${result.newest} cannot read data written by v${version} — not backward compatible: ${reason}`);
  }
  return lines.join('\n');
}
