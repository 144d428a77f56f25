// JK parameters were labelled "level 2" although JK has one level: the protections a family
// writes at one level only are found from its parameter list and named without a level.
import { describe, expect, it } from 'vitest';
import { protectionOf, singleLevelProtections } from './labels';

describe('single-level protections', () => {
  it('finds every JK protection single-level (filed under catalog level 2)', () => {
    // The JK settings table's protection parameters (protocols/src/jk/fields.ts); the
    // console cannot import the protocols, it sees them in the capabilities.
    const ids = [
      'cell_uv_l2_mv',
      'cell_uv_l2_recover_mv',
      'cell_ov_l2_mv',
      'cell_ov_l2_recover_mv',
      'chg_oc_l2_a',
      'chg_oc_l2_delay_s',
      'chg_oc_l2_recover_delay_s',
      'dsg_oc_l2_a',
      'dsg_oc_l2_delay_s',
      'dsg_oc_l2_recover_delay_s',
      'chg_ot_l2_c',
      'chg_ot_l2_recover_c',
      'dsg_ot_l2_c',
      'dsg_ot_l2_recover_c',
      'chg_ut_l2_c',
      'chg_ut_l2_recover_c',
      'mos_ot_l2_c',
      'mos_ot_l2_recover_c',
      'dsg_ut_l2_c',
      'dsg_ut_l2_recover_c',
      'balance_start_mv',
    ];
    const single = singleLevelProtections(ids);
    expect(single.has('cell_ov')).toBe(true);
    expect(single.has('cell_uv')).toBe(true);
    // Every JK protection parameter is named without a level.
    for (const id of ids) {
      const p = protectionOf(id);
      if (p) expect(single.has(p), id).toBe(true);
    }
  });

  it('keeps the levels of a family that writes several', () => {
    const single = singleLevelProtections([
      'cell_ov_l1_mv',
      'cell_ov_l2_mv',
      'cell_ov_l2_recover_mv',
      'chg_ot_l2_c',
      'balance_start_mv',
    ]);
    expect([...single]).toEqual(['chg_ot']);
  });
});
