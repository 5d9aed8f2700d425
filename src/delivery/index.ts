// Public face of the delivery stage: the outbound queue worker started by the composition root.
export { startDeliveryWorker, defaultBackoff, type DeliveryWorker, type DeliveryWorkerDeps } from './worker.js';
export { simulatorScenario, type SimulatorScenario } from './simulator.js';
export type { RelayOptions } from './relay.js';
