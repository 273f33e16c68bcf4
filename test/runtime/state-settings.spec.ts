/** The state and exactly-once settings: defaults, accepted values, and errors that name the setting. */
import { expect } from 'chai';
import { readSetting } from '../../runtime/config.js';

describe('settings: --state, --state-snapshot-interval, --exactly-once, --instance-id', () => {
  it('defaults to state on, a 10 s snapshot interval and at-least-once', () => {
    expect(readSetting('state', undefined, {})).to.equal('on');
    expect(readSetting('stateSnapshotIntervalMs', undefined, {})).to.equal(10_000);
    expect(readSetting('exactlyOnce', undefined, {})).to.equal(false);
    expect(readSetting('instanceId', undefined, {})).to.equal(undefined);
  });

  it('reads --exactly-once as a flag and SIGNALPATH_EXACTLY_ONCE as on/off', () => {
    expect(readSetting('exactlyOnce', true, {})).to.equal(true);
    expect(readSetting('exactlyOnce', undefined, { SIGNALPATH_EXACTLY_ONCE: 'on' })).to.equal(true);
    expect(readSetting('exactlyOnce', undefined, { SIGNALPATH_EXACTLY_ONCE: 'off' })).to.equal(false);
  });

  it('rejects bad values naming the setting and what it accepts', () => {
    expect(() => readSetting('exactlyOnce', undefined, { SIGNALPATH_EXACTLY_ONCE: 'maybe' })).to.throw(/SIGNALPATH_EXACTLY_ONCE.*on, off, true or false/);
    expect(() => readSetting('state', 'sometimes', {})).to.throw(/--state.*expected on or off/);
    expect(() => readSetting('stateSnapshotIntervalMs', '0', {})).to.throw(/--state-snapshot-interval.*at least 1/);
    expect(() => readSetting('instanceId', 'a b', {})).to.throw(/--instance-id.*letters, digits/);
  });
});
