/**
 * Online recalibration of the change sketch's levels from labels: a factor on the calibrated level h
 * per field, and per model × field once that has enough labels of its own. Plain class, no RxJS; the
 * sketch reads the factors through {@link LevelScales}, the label join (label-join.ts) feeds it.
 *
 * The rule, per cell (a field, or a model × field), on each TRUE_POSITIVE or FALSE_POSITIVE label of a
 * sketch mention (UNSURE labels never reach it):
 *
 * 1. Precision at the current level is Beta(a, b). Prior: Beta(n0·p*, n0·(1 − p*)), p* the target
 *    precision, n0 `priorLabels` — the budget's level is presumed on target until labels say
 *    otherwise. Each label first discounts what the earlier ones said (a ← α0 + γ(a − α0), the same for
 *    b, γ = 1 − 1/`memoryLabels`: labels given at other levels fade), then adds itself (a += 1 for a
 *    true positive, b += 1 for a false one). m = a / (a + b) is the posterior mean.
 * 2. A false positive with m < p* raises the factor: × `raiseFactor` (at most `ceiling`).
 *    A true positive with m ≥ p* lowers it: ÷ `lowerFactor`, never below `floor` (nor below where it
 *    stands when it starts below the floor: an experiment may start there). Any other label moves
 *    nothing: an isolated false positive among good ones does not raise it, a true positive while
 *    precision is short of its target does not lower it.
 * 3. A model × field cell learns from its first label; its factor replaces the field's once it has
 *    `modelLabels` labels. Model cells are bounded (`maxModels`, the least recently labelled evicted).
 *
 * Monotone: turning any label of a sequence from true into false positive never leaves a lower factor
 * (m is lower from that label on, so the gate to lower opens less and the gate to raise more; both
 * moves and their bounds are monotone in the factor). Bounded: the factor stays in
 * [min(floor, start), max(ceiling, start)].
 */
import type { LevelScales } from '../../operators/change-sketch.js';
import type { ModelMonitorConfig } from './config.js';

export interface RecalibrationRule {
  /** The precision the levels aim for, (0, 1). */
  readonly targetPrecision: number;
  /** Weight of the prior, in labels, > 0. */
  readonly priorLabels: number;
  /** Labels after which an old label weighs 1/e, ≥ 1 (γ = 1 − 1/memoryLabels). */
  readonly memoryLabels: number;
  /** Factor a raise multiplies the level factor by, > 1. */
  readonly raiseFactor: number;
  /** Factor a lowering divides it by, > 1. */
  readonly lowerFactor: number;
  /** Lowest factor a lowering reaches (the calibrated level: 1), > 0. */
  readonly floor: number;
  /** Highest factor a raise reaches, ≥ floor. */
  readonly ceiling: number;
}

/** One cell's posterior and factor. */
export interface PrecisionCell {
  /** Beta parameters of precision at the current level (prior included). */
  a: number;
  b: number;
  /** The factor on h. */
  scale: number;
  /** Labels seen (true and false positives). */
  labels: number;
  truePositives: number;
  falsePositives: number;
}

export function newCell(rule: RecalibrationRule, scale: number): PrecisionCell {
  return { a: rule.priorLabels * rule.targetPrecision, b: rule.priorLabels * (1 - rule.targetPrecision), scale, labels: 0, truePositives: 0, falsePositives: 0 };
}

/** The posterior mean precision of a cell. */
export function posteriorPrecision(cell: PrecisionCell): number {
  return cell.a / (cell.a + cell.b);
}

/** Applies one label to a cell (the rule of the file comment); returns true when its factor moved. */
export function applyLabel(cell: PrecisionCell, truePositive: boolean, rule: RecalibrationRule, enabled = true): boolean {
  const alpha0 = rule.priorLabels * rule.targetPrecision;
  const beta0 = rule.priorLabels * (1 - rule.targetPrecision);
  const keep = 1 - 1 / rule.memoryLabels;
  cell.a = alpha0 + keep * (cell.a - alpha0) + (truePositive ? 1 : 0);
  cell.b = beta0 + keep * (cell.b - beta0) + (truePositive ? 0 : 1);
  cell.labels++;
  if (truePositive) cell.truePositives++;
  else cell.falsePositives++;
  if (!enabled) return false;
  const m = posteriorPrecision(cell);
  const before = cell.scale;
  if (!truePositive && m < rule.targetPrecision) cell.scale = Math.max(before, Math.min(rule.ceiling, before * rule.raiseFactor));
  else if (truePositive && m >= rule.targetPrecision) cell.scale = Math.min(before, Math.max(rule.floor, before / rule.lowerFactor));
  return cell.scale !== before;
}

export interface LevelRecalibratorOptions extends RecalibrationRule {
  readonly fields: readonly string[];
  /** Off: labels still update the posteriors (reported), the factors stay at `initialScale`. */
  readonly enabled: boolean;
  /** Labels a model × field needs before its own factor replaces the field's, ≥ 1. */
  readonly modelLabels: number;
  /** Model × field cells kept, ≥ 1. */
  readonly maxModels: number;
  /** Factor every cell starts at (an experiment's deliberate miscalibration). Default 1. */
  readonly initialScale?: number;
}

/** What the run report and the metrics show of one cell. */
export interface CellReport {
  readonly field: string;
  /** Undefined for a field's cell. */
  readonly model?: string;
  readonly scale: number;
  readonly labels: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly posteriorPrecision: number;
  /** A model cell whose factor the sketch uses (it has `modelLabels` labels). */
  readonly inUse: boolean;
}

const SEP = '\u0000';

export class LevelRecalibrator implements LevelScales {
  /** Bumped whenever a factor moves (the sketch then reads a key's factors again). */
  version = 0;
  /** Model cells evicted (more than `maxModels`). */
  modelEvictions = 0;
  readonly #options: LevelRecalibratorOptions;
  readonly #initialScale: number;
  readonly #fields = new Map<string, PrecisionCell>();
  /** model × field → cell, least recently labelled first. */
  readonly #models = new Map<string, PrecisionCell>();

  constructor(options: LevelRecalibratorOptions) {
    this.#options = options;
    this.#initialScale = options.initialScale ?? 1;
    for (const field of options.fields) this.#fields.set(field, newCell(options, this.#initialScale));
  }

  /** The factor on h for the sketch's key × field; `fallbackKey` is the model. */
  scaleOf(key: string, fallbackKey: string | undefined, field: string): number {
    const model = fallbackKey ?? key;
    const cell = this.#models.get(model + SEP + field);
    if (cell !== undefined && cell.labels >= this.#options.modelLabels) return cell.scale;
    return this.#fields.get(field)?.scale ?? this.#initialScale;
  }

  /** A true or false positive label of a sketch mention on `model` × `field`. */
  label(model: string, field: string, truePositive: boolean): void {
    const fieldCell = this.#fields.get(field);
    if (fieldCell === undefined) return;
    const key = model + SEP + field;
    let modelCell = this.#models.get(key);
    if (modelCell === undefined) {
      if (this.#models.size >= this.#options.maxModels) {
        this.#models.delete(this.#models.keys().next().value!);
        this.modelEvictions++;
      }
      modelCell = newCell(this.#options, this.#initialScale);
    }
    this.#models.delete(key);
    this.#models.set(key, modelCell);
    const fieldMoved = applyLabel(fieldCell, truePositive, this.#options, this.#options.enabled);
    const modelMoved = applyLabel(modelCell, truePositive, this.#options, this.#options.enabled);
    // A model cell that just reached its label count takes over from the field's factor: that moves too.
    if (fieldMoved || modelMoved || modelCell.labels === this.#options.modelLabels) this.version++;
  }

  /** Every field's cell, and the model cells (in use first, then by labels), at most `maxModelRows`. */
  report(maxModelRows = 50): { fields: CellReport[]; models: CellReport[] } {
    const row = (field: string, cell: PrecisionCell, model?: string): CellReport => ({
      field,
      ...(model === undefined ? {} : { model }),
      scale: cell.scale,
      labels: cell.labels,
      truePositives: cell.truePositives,
      falsePositives: cell.falsePositives,
      posteriorPrecision: posteriorPrecision(cell),
      inUse: model === undefined || cell.labels >= this.#options.modelLabels,
    });
    const fields = [...this.#fields].map(([field, cell]) => row(field, cell));
    const models = [...this.#models]
      .map(([key, cell]) => {
        const [model, field] = key.split(SEP) as [string, string];
        return row(field, cell, model);
      })
      .sort((x, y) => Number(y.inUse) - Number(x.inUse) || y.labels - x.labels)
      .slice(0, maxModelRows);
    return { fields, models };
  }

  /** Plain JSON: the cells, in order. */
  snapshot(): Record<string, unknown> {
    const cell = (c: PrecisionCell): number[] => [c.a, c.b, c.scale, c.labels, c.truePositives, c.falsePositives];
    return {
      fields: [...this.#fields].map(([field, c]) => [field, cell(c)]),
      models: [...this.#models].map(([key, c]) => [key, cell(c)]),
      modelEvictions: this.modelEvictions,
    };
  }

  /** Replaces the cells with a snapshot's; a field this recalibrator does not watch is dropped. */
  restore(snapshot: Readonly<Record<string, unknown>>): void {
    const fields = snapshot['fields'];
    const models = snapshot['models'];
    if (!Array.isArray(fields) || !Array.isArray(models)) throw new TypeError('recalibration: restore() needs { fields, models }');
    const cell = (data: unknown): PrecisionCell => {
      const [a, b, scale, labels, tp, fp] = (data as unknown[]).map(Number) as [number, number, number, number, number, number];
      return { a, b, scale, labels, truePositives: tp, falsePositives: fp };
    };
    for (const [field, data] of fields as [string, unknown][]) if (this.#fields.has(field)) this.#fields.set(field, cell(data));
    this.#models.clear();
    for (const [key, data] of models as [string, unknown][]) if (this.#fields.has(key.split(SEP)[1] ?? '')) this.#models.set(key, cell(data));
    this.modelEvictions = Number(snapshot['modelEvictions'] ?? 0);
    this.version++;
  }
}

/** The recalibrator's options as model-monitor's configuration sets them (the topology and the lab's replay of its levels). */
export function recalibratorOptions(config: ModelMonitorConfig): LevelRecalibratorOptions {
  return {
    fields: config.fields,
    enabled: config.recalibrate,
    targetPrecision: config.targetPrecision,
    priorLabels: config.recalibrationPriorLabels,
    memoryLabels: config.recalibrationMemoryLabels,
    raiseFactor: config.recalibrationRaise,
    lowerFactor: config.recalibrationLower,
    floor: config.levelFloor,
    ceiling: config.levelCeiling,
    modelLabels: config.recalibrationModelLabels,
    maxModels: 10_000,
    initialScale: config.levelScale,
  };
}
