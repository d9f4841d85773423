/**
 * Composable primitives: everything is a {@link Step}, a function of an AbortSignal, and every primitive
 * returns one. The shared contract: a step started with an aborted signal rejects at once with
 * `signal.reason`; an abort stops new work from starting, and a failure while aborted is reported as
 * `signal.reason`; work that did complete is returned.
 *
 * @module
 */
export { type CacheOptions, type CacheStore, cache, cached, memoryCache } from './cache.ts';
export { type CompensableStep, CompensationError, compensate } from './compensate.ts';
export { createEventBus, type EventBus, type EventBusOptions } from './event-bus.ts';
export { type ObserveOptions, observe, type StepEvent } from './observe.ts';
export { type ParallelOptions, parallel } from './parallel.ts';
export { type BackoffOptions, backoffDelay, type RetryEvent, type RetryOptions, retry } from './retry.ts';
export { RouteError, route } from './route.ts';
export { sequence } from './sequence.ts';
export { sleep } from './sleep.ts';
export type { Step, StepResults } from './step.ts';
export { TimeoutError, type TimeoutOptions, timeout } from './timeout.ts';
export { type Predicate, when } from './when.ts';
