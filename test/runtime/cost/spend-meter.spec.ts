/**
 * The spend meter: prices counted work, satisfies `{ spendUsd() }`, rejects bad prices; the operators
 * count where the work happens (enrich: calls to the service, not cache hits; parallelDetect: one per
 * detector per record); the price settings fail by name.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { testEnvelope } from '../../../core/envelope.js';
import { SpendMeter, type UnitPricesUsd } from '../../../runtime/cost/spend-meter.js';
import { processUsage } from '../../../runtime/cost/process-usage.js';
import { ConfigError, readPrices } from '../../../runtime/config.js';
import { enrich } from '../../../operators/enrich.js';
import { parallelDetect, type RecordDetector } from '../../../operators/parallel-detect.js';

const prices: UnitPricesUsd = { perEvent: 2e-7, perEnrichmentCall: 1e-5, perDetectorCall: 1e-6 };

describe('spend meter', () => {
  it('spend is the sum of counts × unit prices, by item and in total', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('ingested-event' as const, 'enrichment-call' as const, 'detector-call' as const), fc.nat(1000))), (adds) => {
        const meter = new SpendMeter(prices);
        for (const [item, n] of adds) meter.add(item, n);
        const total = (item: string): number => adds.filter(([i]) => i === item).reduce((a, [, n]) => a + n, 0);
        const expected = total('ingested-event') * prices.perEvent + total('enrichment-call') * prices.perEnrichmentCall + total('detector-call') * prices.perDetectorCall;
        expect(meter.spendUsd()).to.be.closeTo(expected, 1e-12);
        const report = meter.report();
        expect(report.counts['enrichment-call']).to.equal(total('enrichment-call'));
        expect(Object.values(report.spend_usd_by_item).reduce((a, b) => a + b, 0)).to.be.closeTo(report.spend_usd, 1e-12);
      }),
    );
  });

  it('rejects a negative or non-finite price', () => {
    expect(() => new SpendMeter({ ...prices, perDetectorCall: -1 })).to.throw(RangeError, /perDetectorCall/);
    expect(() => new SpendMeter({ ...prices, perEvent: Number.NaN })).to.throw(RangeError, /perEvent/);
  });

  it('price settings come from flags or SIGNALPATH_PRICE_* and fail by name', () => {
    expect(readPrices({}, {})).to.deep.equal(prices);
    expect(readPrices({ pricePerEvent: '0.001' }, { SIGNALPATH_PRICE_PER_DETECTOR_CALL_USD: '0.5' })).to.deep.equal({ ...prices, perEvent: 0.001, perDetectorCall: 0.5 });
    expect(() => readPrices({}, { SIGNALPATH_PRICE_PER_ENRICHMENT_CALL_USD: 'cheap' })).to.throw(ConfigError, /SIGNALPATH_PRICE_PER_ENRICHMENT_CALL_USD.*--price-per-enrichment-call/);
  });

  it('enrich counts one call per lookup made, none for cache hits or coalesced records', async () => {
    const meter = new SpendMeter(prices);
    const keys = ['m1', 'm2', 'm1', 'm1', 'm2', 'm3'];
    let served = 0;
    const out = await lastValueFrom(
      from(keys.map((model_id, offset) => testEnvelope({ model_id }, { offset }))).pipe(
        enrich<{ model_id: string }, string>({ keyOf: (r) => r.model_id, lookup: async (key) => (served++, `meta-${key}`), meter }),
        toArray(),
      ),
    );
    expect(out).to.have.length(keys.length);
    expect(meter.count('enrichment-call')).to.equal(served).and.to.equal(3);
  });

  it('enrich without a cache counts every lookup; batched mode counts each key fetched', async () => {
    for (const mode of ['async', 'batched'] as const) {
      const meter = new SpendMeter(prices);
      let served = 0;
      await lastValueFrom(
        from(['a', 'b', 'c'].map((k, offset) => testEnvelope({ k }, { offset }))).pipe(
          enrich<{ k: string }, string>({ keyOf: (r) => r.k, lookup: async (key) => (served++, key), mode, maxCacheEntries: 0, meter }),
          toArray(),
        ),
      );
      expect(meter.count('enrichment-call'), mode).to.equal(served).and.to.equal(3);
    }
  });

  it('parallelDetect counts one call per detector per record', async () => {
    const meter = new SpendMeter(prices);
    const detector = (name: string): RecordDetector<number> => ({ name, fields: ['value'], shadow: false, update: () => [], snapshot: () => ({}), restore: () => {} });
    await lastValueFrom(from([1, 2, 3, 4].map((v, offset) => testEnvelope(v, { offset }))).pipe(parallelDetect({ detectors: [detector('a'), detector('b')], meter }), toArray()));
    expect(meter.count('detector-call')).to.equal(8);
  });

  it('process usage reports CPU seconds and peak RSS of this process', () => {
    const usage = processUsage();
    expect(usage.cpu_s).to.be.greaterThan(0);
    expect(usage.peak_rss_mb).to.be.greaterThan(10);
  });
});
