/**
 * Tests' bus factory: `port: sim` buses served by the simulator on local TCP ports (as
 * `openbms start` serves them), with the simulations kept so a test can inject faults or
 * read a pack's true state. The gateway itself never loads the simulator.
 */
import { createSimulation, serveTcp, type Simulation } from '@openbms/simulator';
import { withSimulatedBuses, type BusFactory } from '../buses.js';

export interface SimulatedBuses {
  /** Pass as `new Gateway({..., busFactory})`. */
  busFactory: BusFactory;
  /** The simulations of the buses served now, in the order the gateway opened them. */
  simulations(): Simulation[];
}

export function simulatedBuses(): SimulatedBuses {
  const served: Simulation[] = [];
  const busFactory = withSimulatedBuses(async (plan) => {
    const simulation = createSimulation(plan);
    const listening = await serveTcp(simulation.bus);
    served.push(simulation);
    return {
      endpoint: listening.endpoint,
      answering: simulation.packs.map((p) => p.address),
      clock: simulation.clock,
      close: async () => {
        const i = served.indexOf(simulation);
        if (i >= 0) served.splice(i, 1);
        await listening.close();
      },
    };
  });
  return { busFactory, simulations: () => [...served] };
}
