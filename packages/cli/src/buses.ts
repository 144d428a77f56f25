/**
 * The composition root's bus factory: `port: sim` buses are served by the simulator on a
 * local TCP port (polled over it like an RS485-to-Ethernet converter, so the demo exercises
 * the real scheduler, codecs and timing); every other port is opened as configured. The
 * gateway gets this factory from `openbms start` and never loads the simulator itself.
 */
import { withSimulatedBuses, type BusFactory, type SimulationServer } from '@openbms/gateway';
import { createSimulation, serveTcp } from '@openbms/simulator';

export const serveSimulation: SimulationServer = async (plan) => {
  const simulation = createSimulation(plan);
  const listening = await serveTcp(simulation.bus);
  return {
    endpoint: listening.endpoint,
    answering: simulation.packs.map((p) => p.address),
    clock: simulation.clock,
    close: () => listening.close(),
  };
};

export const busFactory: BusFactory = withSimulatedBuses(serveSimulation);
