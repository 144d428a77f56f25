// `openbms read` for JK printed no charging/discharging word: JK reports no state of its own,
// so the word comes from the current's sign, as the console shows it.
import { describe, expect, it } from 'vitest';
import { renderReading } from './format.js';

const packLine = (text: string): string => text.split('\n').find((l) => l.startsWith('Pack'))!;

describe('renderReading', () => {
  it('names the running state of a pack that reports none (JK), from the current', () => {
    expect(packLine(renderReading({ protocol: 'jk', voltage_v: 53.1, current_a: 12.5 }))).toMatch(
      /charging$/,
    );
    expect(packLine(renderReading({ protocol: 'jk', voltage_v: 52.2, current_a: -8 }))).toMatch(
      /discharging$/,
    );
    expect(packLine(renderReading({ protocol: 'jk', voltage_v: 52.2, current_a: 0 }))).toMatch(
      /idle$/,
    );
  });

  it('keeps the state a pack reports', () => {
    expect(packLine(renderReading({ state: 'fault', current_a: 0 }))).toMatch(/fault$/);
    expect(packLine(renderReading({ state: 'idle', current_a: 0.3 }))).toMatch(/idle$/);
  });
});
