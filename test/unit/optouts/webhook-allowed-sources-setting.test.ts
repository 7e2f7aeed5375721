import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS_INPUT,
  InvalidSettingsError,
  parseSettings,
} from '../../../shared/config/settings.js';

const withSources = (webhookAllowedSources: unknown) =>
  parseSettings({ ...DEFAULT_SETTINGS_INPUT, optOuts: { webhookAllowedSources } });

describe('settings optOuts.webhookAllowedSources', () => {
  it('defaults to no list (any source; the secret alone authenticates)', () => {
    expect(parseSettings(DEFAULT_SETTINGS_INPUT).optOuts.webhookAllowedSources).toEqual([]);
    expect(parseSettings({ ...DEFAULT_SETTINGS_INPUT, optOuts: {} }).optOuts.webhookAllowedSources).toEqual(
      [],
    );
  });

  it('takes IPv4 and IPv6 CIDR blocks and single addresses', () => {
    const list = ['192.28.144.0/20', '2001:db8::/32', '52.20.211.99'];
    expect(withSources(list).optOuts.webhookAllowedSources).toEqual(list);
  });

  it.each([['192.28.144.0/33'], ['not-an-ip'], ['10.0.0.0/8/1'], ['']])(
    'refuses %j, naming the setting and the entry',
    (bad) => {
      const refuse = () => withSources(['10.0.0.0/8', bad]);
      expect(refuse).toThrow(InvalidSettingsError);
      expect(refuse).toThrow(/optOuts\.webhookAllowedSources: .*"/);
      expect(refuse).toThrow(`"${bad}"`);
    },
  );
});
