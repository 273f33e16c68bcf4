/**
 * Whether model-monitor accepts a variant's settings, checked before the variant runs: every
 * MODEL_MONITOR_* variable it sets must be one of model-monitor's settings, and its configuration
 * must read without error. A variant with `needs` that fails the check is skipped with the reason
 * (the settings have not landed yet); any other variant fails as it would at start-up.
 */
import { MODEL_MONITOR_SETTINGS, readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import type { LabVariant } from './variants.js';

/** Why model-monitor would not run `variant` as configured, or undefined when it would. */
export function unsupportedReason(variant: LabVariant): string | undefined {
  const known = new Set<string>(Object.values(MODEL_MONITOR_SETTINGS).map((setting) => setting.env));
  const unknown = Object.keys(variant.env).filter((name) => name.startsWith('MODEL_MONITOR_') && !known.has(name));
  if (unknown.length > 0) return `model-monitor has no setting ${unknown.join(', ')}`;
  try {
    // The registry URL is the lab's to give at run time; any URL passes the check.
    readModelMonitorConfig({ ...variant.env, MODEL_REGISTRY_URL: 'http://127.0.0.1:1' });
    return undefined;
  } catch (error) {
    return `model-monitor rejects it: ${(error as Error).message}`;
  }
}
