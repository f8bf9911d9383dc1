/** The queue-depth autoscaler (docs/deploy.md, The autoscaler): the composition root's entry points. */
export { startAutoscaler, type AutoscalerOptions, type DemandSource, type QueueDemand, type RunningAutoscaler, type Tick, type WorkerCount } from './autoscaler.ts';
export { decide, SCALE_REASONS, type Decision, type ScaleReason } from './decide.ts';
export { createActuator, type Actuator, type ActuatorDeps } from './actuators/index.ts';
