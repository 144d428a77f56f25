/** A MOS write over Modbus that the pack really performs (DALY on the simulator). */
import Modbus from 'modbus-serial';
import { expect, it } from 'vitest';
import { ModbusTcpServer, modbusTcpConfigSchema } from './index.js';
import { freePort, simGateway, until } from '../../testing/modbus.js';

const ModbusRTU = Modbus.default;

it('writing 0 to the charge MOS register switches the pack off through ControlService, audited as "modbus"', async () => {
  const { gw, stop } = await simGateway('daly', [0x40]);
  const port = await freePort();
  const server = new ModbusTcpServer({
    config: modbusTcpConfigSchema.parse({ port, writes: true }),
    packs: () => gw.packs(),
    control: gw.control,
  });
  await server.start();
  const c = new ModbusRTU();
  try {
    await c.connectTCP('127.0.0.1', { port });
    c.setID(1);
    c.setTimeout(10_000);
    expect((await c.readHoldingRegisters(17, 1)).data).toEqual([1]);
    // A refused write says why (exception 4 alone does not): the command's own detail.
    await c.writeRegister(17, 0).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(gw.control.commands('s/b/64'))}`);
    });
    const cmd = gw.control.commands('s/b/64')[0]!;
    expect(cmd).toMatchObject({ user: 'modbus', action: 'mos.charge', status: 'done' });
    // Right after the acknowledged write (no poll in between): the read-back value, in the
    // registers and the API alike (it used to be the old value for about a second).
    expect((await c.readHoldingRegisters(17, 1)).data).toEqual([0]);
    expect(gw.pack('s/b/64')!.snapshot!.charge_mos).toBe(false);
    // And the next poll agrees.
    await until(gw, (e) => e.type === 'snapshot' && e.packId === 's/b/64');
    expect((await c.readHoldingRegisters(17, 1)).data).toEqual([0]);
    expect(server.status().writesDone).toBe(1);
  } finally {
    c.close(() => undefined);
    await server.stop();
    await stop();
  }
});

it('a MOS register takes exactly 0 or 1: 2, 255 and 0xFFFF are refused (exception 3) and the pack is untouched', async () => {
  const { gw, sims, stop } = await simGateway('daly', [0x40]);
  const port = await freePort();
  const server = new ModbusTcpServer({
    config: modbusTcpConfigSchema.parse({ port, writes: true }),
    packs: () => gw.packs(),
    control: gw.control,
  });
  await server.start();
  const c = new ModbusRTU();
  try {
    await c.connectTCP('127.0.0.1', { port });
    c.setID(1);
    c.setTimeout(10_000);
    const sim = sims.simulations()[0]!.packs[0]!;
    for (const v of [2, 255, 0xffff]) {
      await expect(c.writeRegister(17, v)).rejects.toMatchObject({ modbusCode: 3 });
      await expect(c.writeRegisters(16, [v, v])).rejects.toMatchObject({ modbusCode: 3 });
    }
    expect(sim.snapshot().charge_mos).toBe(true);
    expect(sim.snapshot().discharge_mos).toBe(true);
    expect(gw.control.commands('s/b/64')).toEqual([]);
    expect(server.status().writesDone).toBe(0);
  } finally {
    c.close(() => undefined);
    await server.stop();
    await stop();
  }
});
