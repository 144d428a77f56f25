// Server results and refusals in the reader's language (the Chinese UI showed "charge MOSFET
// switched on; read back on" and "Demo site (simulated)" in English): keys the gateway
// sends are all translated, parameters filled in, unknown keys fall back to the English.
import i18next from 'i18next';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SITE_NAME, RESULT_KEYS } from '@openbms/core';
import server from './server';
import { errorText, serverText, siteName } from './server-text';

const i18n = i18next.createInstance();
beforeAll(async () => {
  await i18n.init({
    resources: { en: { server: server.en }, zh: { server: server.zh } },
    lng: 'zh',
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
  });
});

describe('server texts', () => {
  it('says command results in Chinese, with their parameters', () => {
    expect(serverText(i18n, { key: 'result.mos_charge_on' }, 'charge MOSFET switched on')).toBe(
      '充电 MOS 已打开；回读为开',
    );
    expect(serverText(i18n, { key: 'result.soc_set', params: { pct: 80, soc: 79.9 } }, 'x')).toBe(
      'SOC 已设为 80 %；回读 79.9 %',
    );
  });

  it('keeps the English sentence for an unknown key or missing parameters', () => {
    expect(serverText(i18n, { key: 'result.new_in_v2' }, 'something new')).toBe('something new');
    expect(serverText(i18n, { key: 'result.soc_set', params: { pct: 80 } }, 'SOC set')).toBe(
      'SOC set',
    );
    expect(serverText(i18n, undefined, 'plain')).toBe('plain');
  });

  it('translates refusals by interlock or code, with the details as parameters', () => {
    expect(
      errorText(i18n, {
        code: 'COMMAND_REFUSED',
        message: 'discharge current flows (-10 A, limit 0.5 A): ...',
        details: { interlock: 'charge_mos_off', current_a: -10 },
      }),
    ).toBe('正在放电：现在不能关闭充电 MOS；请先把电流降到零');
    expect(
      errorText(i18n, {
        code: 'PARAM_OUT_OF_RANGE',
        message: 'outside',
        details: { min: 2000, max: 4000 },
      }),
    ).toBe('超出 2000..4000');
    expect(errorText(i18n, { code: 'CONFIG_INVALID', message: 'bus.port: required' })).toBe(
      'bus.port: required',
    );
  });

  it('shows the server’s own sentence in English', async () => {
    await i18n.changeLanguage('en');
    expect(serverText(i18n, { key: 'result.mos_charge_on' }, 'charge MOSFET switched on')).toBe(
      'charge MOSFET switched on',
    );
    await i18n.changeLanguage('zh');
  });

  it('shows the demo site by its translated name, other names as given', () => {
    expect(siteName(i18n, DEMO_SITE_NAME)).toBe('演示站点（模拟）');
    expect(siteName(i18n, 'Garage')).toBe('Garage');
  });

  it('has a translation for every result key the gateway sends', () => {
    for (const k of RESULT_KEYS) expect(i18n.exists(`server:result.${k}`), k).toBe(true);
    expect(Object.keys(server.en['result'] as object).sort()).toEqual([...RESULT_KEYS].sort());
  });
});
